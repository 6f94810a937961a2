# tools/build.mk - the helper scripts in tools/: bootstrap (the top Makefile's `deps`),
# qemu-run (`make run`, `make run-iso`), qemu-test (`make kernel-test`), shell-test
# (`make shell-test`, Python 3) and readme-sample (`make readme-test`: the README's sample output
# against what the kernel prints now). `make check-tools` lints them.

TOOLS_SCRIPTS := tools/bootstrap tools/qemu-run tools/qemu-test
TOOLS_PYTHON  := tools/shell-test tools/readme-sample

.PHONY: check-tools
check-tools:
	@for s in $(TOOLS_SCRIPTS); do bash -n $$s || exit 1; done
	@for s in $(TOOLS_PYTHON); do \
	    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' $$s || exit 1; done
	@if command -v shellcheck >/dev/null; then shellcheck $(TOOLS_SCRIPTS); \
	 else echo "check-tools: shellcheck not installed, syntax checked only"; fi

# The README's samples (marked <!-- sample: ... -->) are real output: two boots at 128 MiB, every
# sample compared with what the kernel prints. After changing that output on purpose, run
# tools/readme-sample --update and commit the README.
.PHONY: readme-test
test: readme-test
readme-test: deps $(BUILD)/kernel.elf
	@tools/readme-sample -k $(BUILD)/kernel.elf --check
