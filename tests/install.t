#!/bin/sh
# make install and make uninstall into a DESTDIR staging tree, and a real
# program run through the staged launcher.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
stage=$(mktemp -d /tmp/shmshim-stage.XXXXXX) || exit 1
trap 'rm -rf "$root" "$stage"' EXIT

make -s install DESTDIR="$stage" PREFIX=/usr >/dev/null
ok $? "make install DESTDIR=... PREFIX=/usr"
for f in usr/lib/libshmshim.so usr/bin/shmclean usr/bin/shmshim \
	usr/share/man/man1/shmshim.1 usr/share/man/man1/shmclean.1 \
	usr/share/man/man7/shmshim.7; do
	check "... installs /$f" test -f "$stage/$f"
done
check "... the programs and the library are executable" \
	test -x "$stage/usr/bin/shmshim" -a -x "$stage/usr/bin/shmclean" -a -x "$stage/usr/lib/libshmshim.so"

launcher="$stage/usr/bin/shmshim"
check "the staged launcher finds the staged library" \
	test "$("$launcher" --print-lib)" = "$(cd "$stage/usr/lib" && pwd -P)/libshmshim.so"
"$launcher" -d "$root" -- "$build/tests/symver_open" create /staged
ok $? "a program runs through the staged launcher"
check "... and its object is <root>/.SHMDstaged" test -f "$root/.SHMDstaged"
check "the staged shmclean lists it" sh -c "'$stage/usr/bin/shmclean' -d '$root' -l | grep -q ' /staged\$'"
"$launcher" -d "$root" /usr/bin/python3 -c '
from multiprocessing import shared_memory
s = shared_memory.SharedMemory(name="viapython", create=True, size=100)
import os; assert os.path.exists(os.environ["SHMSHIM_DIR"] + "/.SHMDviapython")
s.close(); s.unlink()'
ok $? "python3 shared_memory works through the launcher"
"$stage/usr/bin/shmclean" -q -d "$root" -r /staged
check "the root is empty again" root_empty

libm=$("${CC:-cc}" -print-file-name=libm.so.6) # any other library will do
# shellcheck disable=SC2016 # expanded by the inner shell
out=$(LD_PRELOAD=$libm "$launcher" sh -c 'echo "$LD_PRELOAD"')
check "the launcher puts the library first and keeps what was preloaded" \
	test "$out" = "$("$launcher" --print-lib) $libm"
out=$("$launcher" -d "$root" --debug --names glibc "$build/tests/symver_open" create noslash 2>&1)
check "--debug traces and --names glibc accepts a name without a slash" \
	sh -c "echo '$out' | grep -q 'shm_open(\"noslash\"' && test -f '$root/.SHMDnoslash'"
rm -f "$root/.SHMDnoslash" "$root/.SHMLnoslash"
"$launcher" -d "$root/missing" true 2>/dev/null
ok $(($? != 125)) "a missing directory: exit 125"
"$launcher" 2>/dev/null
ok $(($? != 2)) "no command: exit 2"
cp "$launcher" "$root/lonely"
"$root/lonely" true 2>"$root/err"
status=$?
check "a launcher that cannot find its library: exit 125 and says so" \
	sh -c "test $status -eq 125 && grep -q 'cannot find libshmshim.so' '$root/err'"
rm -f "$root/lonely" "$root/err"

make -s uninstall DESTDIR="$stage" PREFIX=/usr >/dev/null
ok $? "make uninstall"
check "... leaves no file behind" test -z "$(find "$stage" -type f)"

# A staging tree whose path has a space: installed there all the same, but
# its launcher refuses to run anything, since LD_PRELOAD cannot carry the
# path of its library.
spaced="$stage/x y"
make -s install DESTDIR="$spaced" PREFIX=/usr >/dev/null
check "make install into a DESTDIR with a space puts the files there" \
	test -f "$spaced/usr/lib/libshmshim.so" -a -x "$spaced/usr/bin/shmshim"
"$spaced/usr/bin/shmshim" touch "$stage/ran" 2>"$stage/err"
status=$?
check "... and its launcher exits 125, says why, and runs nothing" \
	sh -c "test $status -eq 125 && grep -q 'splits LD_PRELOAD at spaces, colons' '$stage/err' && test ! -e '$stage/ran'"
rm -f "$stage/err" "$stage/ran"
make -s uninstall DESTDIR="$spaced" PREFIX=/usr >/dev/null
check "... and uninstall removes exactly those files" test -z "$(find "$stage" -type f)"

make -s install DESTDIR="$stage" PREFIX=/opt/shm LIBDIR=/opt/shm/lib64/shmshim \
	BINDIR=/opt/shm/sbin MANDIR=/opt/shm/man >/dev/null
check "LIBDIR, BINDIR and MANDIR are honoured" \
	test -f "$stage/opt/shm/lib64/shmshim/libshmshim.so" -a -f "$stage/opt/shm/sbin/shmshim" \
	-a -f "$stage/opt/shm/man/man7/shmshim.7"
check "... and the launcher finds the library there" \
	test "$("$stage/opt/shm/sbin/shmshim" --print-lib)" = \
	"$(cd "$stage/opt/shm/lib64/shmshim" && pwd -P)/libshmshim.so"
make -s uninstall DESTDIR="$stage" PREFIX=/opt/shm LIBDIR=/opt/shm/lib64/shmshim \
	BINDIR=/opt/shm/sbin MANDIR=/opt/shm/man >/dev/null
check "... and uninstall removes exactly those files" test -z "$(find "$stage" -type f)"
check "the build-tree launcher finds the library beside it" \
	test "$("$build/shmshim" --print-lib)" = "$build/libshmshim.so"
done_testing
