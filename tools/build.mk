# tools/build.mk - the helper scripts in tools/: bootstrap (the top Makefile's `deps`),
# qemu-run (`make run`, `make run-iso`), qemu-test (`make kernel-test`) and shell-test
# (`make shell-test`, Python 3). `make check-tools` lints them.

TOOLS_SCRIPTS := tools/bootstrap tools/qemu-run tools/qemu-test
TOOLS_PYTHON  := tools/shell-test

.PHONY: check-tools
check-tools:
	@for s in $(TOOLS_SCRIPTS); do bash -n $$s || exit 1; done
	@for s in $(TOOLS_PYTHON); do \
	    python3 -c 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])' $$s || exit 1; done
	@if command -v shellcheck >/dev/null; then shellcheck $(TOOLS_SCRIPTS); \
	 else echo "check-tools: shellcheck not installed, syntax checked only"; fi
