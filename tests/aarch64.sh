# shellcheck shell=sh disable=SC2034,SC2154
# tests/aarch64.sh - what the aarch64 tests need, for tests/run and
# tests/floor-aarch64.t. Sourced once $build is set; sets $aarch64_skip
# (why the aarch64 tests cannot run here, or empty) and $aarch64_prefix
# (the tree holding the aarch64 loader and C library, which qemu-aarch64
# takes as -L or QEMU_LD_PREFIX): found through the cross compiler, so
# that no machine's paths are written into the tests.
aarch64_cc=${AARCH64_CC:-aarch64-linux-gnu-gcc}
aarch64_skip='' aarch64_prefix=''
if [ ! -x "$build/aarch64/libshmshim.so" ]; then
	aarch64_skip="no aarch64 build: $aarch64_cc is missing (Debian: gcc-aarch64-linux-gnu libc6-dev-arm64-cross)"
elif ! command -v qemu-aarch64 >/dev/null 2>&1; then
	aarch64_skip="qemu-aarch64 is not installed (Debian: qemu-user)"
else
	aarch64_libc=$("$aarch64_cc" -print-file-name=libc.so.6 2>/dev/null)
	if [ -f "$aarch64_libc" ]; then
		aarch64_prefix=$(cd "$(dirname "$aarch64_libc")/.." && pwd -P)
	else
		aarch64_skip="$aarch64_cc cannot say where its C library is"
	fi
fi
