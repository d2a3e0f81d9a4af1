#!/bin/sh
# tests/floor.t for the aarch64 build: its library and shmclean ask for no
# glibc newer than 2.17 either, and a program started through
# tools/oldstart.c runs under qemu-aarch64.
top=$(cd "$(dirname "$0")/.." && pwd)
case ${BUILDDIR:-build} in
/*) build=$BUILDDIR ;;
*) build="$top/${BUILDDIR:-build}" ;;
esac
# shellcheck source=tests/aarch64.sh
. "$top/tests/aarch64.sh"
if [ -n "$aarch64_skip" ]; then
	echo "1..0 # SKIP $aarch64_skip"
	exit 0
fi
readelf=${aarch64_cc%gcc}readelf
command -v "$readelf" >/dev/null 2>&1 || readelf=readelf
QEMU_LD_PREFIX=$aarch64_prefix exec "$top/tests/floor.t" "$build/aarch64" "$readelf" "$aarch64_cc" qemu-aarch64
