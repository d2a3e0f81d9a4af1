# shellcheck shell=sh disable=SC2034
# tests/lib.sh - TAP helpers for the shell tests, and a fresh root.
# Sourced; sets $top, $build (the build under test: $BUILDDIR, which make
# check exports, relative to $top unless absolute; else build), $lib and
# $root (exported as SHMSHIM_DIR), and removes the root on exit.
# A script below tests/ sets $top itself before sourcing this.
: "${top:=$(cd "$(dirname "$0")/.." && pwd)}"
case ${BUILDDIR:-build} in
/*) build=$BUILDDIR ;;
*) build="$top/${BUILDDIR:-build}" ;;
esac
lib="$build/libshmshim.so"
tap_n=0
tap_failed=0

ok() { # ok STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=$((tap_failed + 1))
	fi
}

check() { # check DESCRIPTION COMMAND...
	desc=$1
	shift
	if "$@"; then ok 0 "$desc"; else ok 1 "$desc"; fi
}

skip() { # skip COUNT REASON
	i=0
	while [ "$i" -lt "$1" ]; do
		tap_n=$((tap_n + 1))
		echo "ok $tap_n # skip $2"
		i=$((i + 1))
	done
}

diag() { echo "# $*"; }

done_testing() {
	echo "1..$tap_n"
	[ "$tap_failed" -eq 0 ]
}

root=$(mktemp -d /tmp/shmshim-test.XXXXXX) || exit 1
chmod 1777 "$root"
export SHMSHIM_DIR="$root"
trap 'rm -rf "$root"' EXIT

root_empty() { [ -z "$(ls -A "$root")" ]; }
