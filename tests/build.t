#!/bin/sh
# The build itself: BUILDDIR holds every output, make install takes the
# files from it, and a build whose compiler is missing stops at once and
# names the Debian packages to install.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
scratch=$(mktemp -d /tmp/shmshim-build.XXXXXX) || exit 1
trap 'rm -rf "$root" "$scratch"' EXIT

missing_compiler() { # missing_compiler CC PACKAGES...
	cc=$1
	shift
	make -s BUILDDIR="$scratch/none" CC="$cc" all >"$scratch/out" 2>&1
	status=$?
	check "a build with a missing $(basename "$cc") fails, names $*, and makes nothing" \
		sh -c "test $status -ne 0 && grep -q 'apt-get install $*' '$scratch/out' &&
		       test ! -e '$scratch/none'"
	sed 's/^/# /' "$scratch/out"
}
missing_compiler /nonexistent/aarch64-linux-gnu-gcc gcc-aarch64-linux-gnu libc6-dev-arm64-cross
missing_compiler /nonexistent/musl-gcc musl musl-dev musl-tools
missing_compiler /nonexistent/gcc gcc libc6-dev
make -s BUILDDIR="$scratch/none" CC=/nonexistent/gcc clean >/dev/null 2>&1
ok $? "... but make clean works without a compiler"

# A second native build beside the first: everything it makes is in its
# BUILDDIR, and the build under test is not touched.
stamp="$scratch/stamp"
touch "$stamp"
sleep 1
make -s BUILDDIR="$scratch/other" all >"$scratch/out" 2>&1
ok $? "make BUILDDIR=DIR all builds there"
for f in libshmshim.so shmclean shmshim; do
	check "... $f is in it" test -x "$scratch/other/$f"
done
check "... nothing else in the tree changed" \
	sh -c "test -z \"\$(find '$top' -path '$scratch' -prune -o -newer '$stamp' -type f -print | grep -v '/\\.git/')\""
check "... and the build under test is as it was" \
	test -z "$(find "$build" -newer "$stamp" -type f)"
make -s install BUILDDIR="$scratch/other" DESTDIR="$scratch/stage" PREFIX=/usr >/dev/null
ok $? "make install BUILDDIR=DIR"
check "... installs that build's library and shmclean" \
	sh -c "cmp -s '$scratch/other/libshmshim.so' '$scratch/stage/usr/lib/libshmshim.so' &&
	       cmp -s '$scratch/other/shmclean' '$scratch/stage/usr/bin/shmclean'"
check "... and its launcher finds the library installed beside it" \
	test "$("$scratch/stage/usr/bin/shmshim" --print-lib)" = "$(cd "$scratch/stage/usr/lib" && pwd -P)/libshmshim.so"

# A package's name promises glibc and a machine: make refuses the others.
musl_cc=${MUSL_CC:-musl-gcc}
command -v "$musl_cc" >/dev/null 2>&1 || skip 3 "$musl_cc is not installed (Debian: musl-tools)"
command -v "$musl_cc" >/dev/null 2>&1 && for target in deb wheel lambda-layer; do
	make -n "$target" CC="$musl_cc" BUILDDIR="$scratch/musl" DISTDIR="$scratch/d" \
		>/dev/null 2>"$scratch/err"
	status=$?
	check "make $target with a musl compiler refuses: packages hold glibc builds" \
		sh -c "test $status -ne 0 && grep -q 'packages hold glibc builds' '$scratch/err'"
done

# One version, set in VERSION: the programs and the installed man pages say it.
version=$(cat VERSION)
check "shmclean --version says $version" sh -c "'$build/shmclean' --version | grep -qx 'shmclean (shmshim) $version'"
check "shmshim --version says $version" sh -c "'$build/shmshim' --version | grep -qx 'shmshim $version'"
check "... and so do the installed man pages" \
	sh -c "grep -q '\"shmshim $version\"' '$scratch/stage/usr/share/man/man1/shmclean.1' &&
	       ! grep -rq '@VERSION@' '$scratch/stage/usr/share/man'"
done_testing
