#!/bin/sh
# make dist: the tarball holds exactly the files git tracks, under
# shmshim-VERSION/, and unpacked in a fresh directory it builds and passes
# make check (where this test does not run again).
top=$(cd "$(dirname "$0")/../.." && pwd)
# shellcheck source=tests/lib.sh
. "$top/tests/lib.sh"
cd "$top" || exit 1
work=$(mktemp -d /tmp/shmshim-dist.XXXXXX) || exit 1
trap 'rm -rf "$root" "$work"' EXIT
version=$(cat VERSION)

if ! git ls-files --error-unmatch Makefile >/dev/null 2>&1; then
	echo "1..0 # SKIP not a git checkout: make dist packs the files git tracks"
	exit 0
fi
make -s dist DISTDIR="$work" >"$work/out" 2>&1
ok $? "make dist"
tarball="$work/shmshim-$version.tar.gz"
check "... writes shmshim-$version.tar.gz" test -f "$tarball"
tar -tzf "$tarball" | sed "s,^shmshim-$version/,," | grep -v '/$' | sort >"$work/in-tar"
git ls-files | sort >"$work/tracked"
check "... holding exactly the tracked files, under shmshim-$version/" \
	cmp -s "$work/in-tar" "$work/tracked"
diff "$work/tracked" "$work/in-tar" | sed 's/^/# /' | head -20

tar -xzf "$tarball" -C "$work"
# The build and the tests of the unpacked tree are its own: nothing of
# this tree's build (BUILDDIR) is passed on.
(cd "$work/shmshim-$version" && env -u BUILDDIR -u MAKEFLAGS -u MAKELEVEL SHMSHIM_IN_DIST=1 \
	make check >"$work/check.log" 2>&1)
status=$?
check "unpacked in a fresh directory, it passes make check" \
	sh -c "test $status -eq 0 && grep -q '^Result: PASS' '$work/check.log'"
[ $status -eq 0 ] || tail -30 "$work/check.log" | sed 's/^/# /'
grep '^Files=' "$work/check.log" | sed 's/^/# there: /'
done_testing
