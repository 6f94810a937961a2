# tools/build.mk - the helper scripts in tools/: bootstrap (the top Makefile's `deps`),
# qemu-run (`make run`) and qemu-test (`make kernel-test`). `make check-tools` lints them.

TOOLS_SCRIPTS := tools/bootstrap tools/qemu-run tools/qemu-test

.PHONY: check-tools
check-tools:
	@for s in $(TOOLS_SCRIPTS); do bash -n $$s || exit 1; done
	@if command -v shellcheck >/dev/null; then shellcheck $(TOOLS_SCRIPTS); \
	 else echo "check-tools: shellcheck not installed, syntax checked only"; fi
