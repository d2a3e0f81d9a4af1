#!/bin/sh
# The launcher, build/shmshim: its options and exit statuses, LD_PRELOAD's
# order, the refusal of a library path that LD_PRELOAD cannot carry (a
# space, a colon), the warning for programs the library cannot be loaded
# into (static, another word size), and finding the library without /proc.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
cd "$top" || exit 1
case $top in *[' :']*)
	echo "1..0 # SKIP the source tree's path has a space or a colon, which the launcher refuses"
	exit 0
	;;
esac
work=$(mktemp -d /tmp/shmshim-launcher.XXXXXX) || exit 1
trap 'rm -rf "$root" "$work"' EXIT
launcher="$build/shmshim"
real_root=$(cd "$root" && pwd -P)

# run ARG...: runs the launcher, setting $status, $out and $err. The
# tests that must run nothing give it "touch $work/ran", removed here so
# that one failure does not fail the next.
run() {
	rm -f "$work/ran"
	"$launcher" "$@" >"$work/out" 2>"$work/err"
	status=$?
	out=$(cat "$work/out")
	err=$(cat "$work/err")
}

# --help, --version, and with the library missing.
# help_ok: exit 0, and $out names the exit statuses 125, 126, 127 and 2.
help_ok() {
	test "$status" -eq 0 || return 1
	for n in 125 126 127 2; do
		echo "$out" | grep -qw "$n" || return 1
	done
}
run --help
check "--help exits 0 and gives the exit statuses 125, 126, 127 and 2" help_ok
run -V
check "-V prints the version" test "$status $out" = "0 shmshim $(cat "$top/VERSION")"
mkdir "$work/alone"
cp "$launcher" "$work/alone/shmshim"
"$work/alone/shmshim" --help >/dev/null 2>&1
ok $? "--help works for a launcher without its library"
"$work/alone/shmshim" --version >/dev/null 2>&1
ok $? "... and so does --version"
rm -f "$work/ran"
"$work/alone/shmshim" touch "$work/ran" 2>"$work/err"
status=$?
check "... while running a command fails with 125, says why, and runs nothing" \
	sh -c "test $status -eq 125 && grep -q 'cannot find libshmshim.so' '$work/err' && test ! -e '$work/ran'"

# Options, in both forms; the environment the command gets.
# shellcheck disable=SC2016 # expanded by the inner shell
show='echo "$SHMSHIM_DIR|$SHMSHIM_NAMES|$SHMSHIM_LOCK_TIMEOUT_MS|${SHMSHIM_DEBUG-}|${SHMSHIM_SYSV-}"'
run --dir="$root" --names=glibc --lock-timeout=250 --debug --sysv=files sh -c "$show"
check "--dir=DIR --names=glibc --lock-timeout=N --debug --sysv=files set the variables" \
	test "$status $out" = "0 $real_root|glibc|250|1|files"
run -d "$root" --names strict --lock-timeout 0 --sysv native sh -c "$show"
check "-d DIR --names RULES --lock-timeout N --sysv WHERE set them too" \
	test "$status $out" = "0 $real_root|strict|0||native"
# shellcheck disable=SC2016 # expanded by the inner shell
(cd "$root" && "$launcher" -d . sh -c 'echo "$SHMSHIM_DIR"' >"$work/out")
check "-d makes a relative directory absolute" test "$(cat "$work/out")" = "$real_root"
run sh -c 'printf "%s|" "$@"; echo "${SHMSHIM_DEBUG-unset}"' sh --debug -d x --help
check "options end at the command: its own options pass through untouched" \
	test "$status $out" = "0 --debug|-d|x|--help|unset"
run -- printf '%s' --version
check "-- ends the options" test "$status $out" = "0 --version"

# usage_error ARGS...: the launcher exits 2 with the hint.
usage_error() {
	run "$@"
	test "$status" -eq 2 && echo "$err" | grep -q "^Try 'shmshim --help'\.\$"
}
check "no command: exit 2 and the hint" usage_error
check "--names=GLIBC: exit 2" usage_error --names=GLIBC true
check "--sysv=file: exit 2" usage_error --sysv=file true
check "--lock-timeout=12x: exit 2" usage_error --lock-timeout=12x true
check "--lock-timeout=: exit 2" usage_error --lock-timeout= true
check "an unknown option: exit 2" usage_error --bogus true
check "--debug=1: exit 2" usage_error --debug=1 true
check "-d without a directory: exit 2" usage_error -d

touch "$work/file"
run -d "$work/file" touch "$work/ran"
check "-d FILE: exit 125, 'not a directory', nothing run" \
	test "$status|$err|$(test -e "$work/ran"; echo $?)" = \
	"125|shmshim: $work/file: not a directory|1"
run -d "$work/missing" touch "$work/ran"
check "-d MISSING: exit 125, not created, nothing run" \
	test "$status|$err|$(test -e "$work/missing" -o -e "$work/ran"; echo $?)" = \
	"125|shmshim: $work/missing: no such directory (the shim does not create it)|1"

# Exit statuses and messages as a shell's.
run sh -c 'exit 7'
check "the command's exit status is the launcher's" test "$status" -eq 7
run shmshim-no-such-command
check "an unknown command: 127, 'command not found' and nothing else" \
	test "$status|$err" = "127|shmshim: shmshim-no-such-command: command not found"
run "$work/missing"
check "a missing path: 127, 'No such file or directory'" \
	test "$status|$err" = "127|shmshim: $work/missing: No such file or directory"
chmod 0644 "$work/file"
run "$work/file"
check "a file that is not executable: 126, 'Permission denied'" \
	test "$status|$err" = "126|shmshim: $work/file: Permission denied"
run "$work"
check "a directory: 126" test "$status" -eq 126
printf 'echo no-hash-bang\n' >"$work/plain-script"
chmod 0755 "$work/plain-script"
run "$work/plain-script"
check "a script without #! runs under /bin/sh, as execvp does" test "$status|$out|$err" = "0|no-hash-bang|"

# LD_PRELOAD: ours first, what was there kept, ours once; and loaded.
# shellcheck disable=SC2016 # expanded by the inner shell
out=$(LD_PRELOAD="libm.so.6:$lib" "$launcher" sh -c 'echo "$LD_PRELOAD"')
check "the library goes first in LD_PRELOAD, once, the rest kept" test "$out" = "$lib libm.so.6"
# shellcheck disable=SC2016
out=$(LD_PRELOAD="$lib" "$launcher" sh -c 'echo "$LD_PRELOAD"')
check "... and is not added twice" test "$out" = "$lib"
# shellcheck disable=SC2016
out=$("$launcher" sh -c 'grep -c libshmshim.so /proc/$$/maps')
check "the command has the library loaded" test "${out:-0}" -gt 0

# A library path with a space or a colon: refused, nothing run.
for dir in "with space" "with:colon"; do
	mkdir "$work/$dir"
	cp "$launcher" "$lib" "$work/$dir/"
	rm -f "$work/ran"
	"$work/$dir/shmshim" touch "$work/ran" 2>"$work/err"
	status=$?
	check "a library in '$dir': exit 125, says why, runs nothing" \
		sh -c "test $status -eq 125 && grep -q 'splits LD_PRELOAD at spaces, colons' '$work/err' && test ! -e '$work/ran'"
	"$work/$dir/shmshim" --print-lib >"$work/out" 2>/dev/null
	status=$?
	check "... and --print-lib refuses it too" test "$status|$(cat "$work/out")" = "125|"
done
ln -s "$launcher" "$work/with space/via-link"
out=$("$work/with space/via-link" --print-lib)
check "a launcher reached through a path with a space finds its real place's library" \
	test "$out" = "$lib"

# Programs the library cannot be loaded into: a warning, and they run.
printf 'int main(void) { return 3; }\n' >"$work/three.c"
warning="is statically linked: its shared memory calls will not go through the shim"
if ${CC:-cc} -static -o "$work/static" "$work/three.c" 2>/dev/null; then
	run "$work/static"
	check "a static program: one warning, and it runs" \
		test "$status|$err" = "3|shmshim: warning: $work/static $warning"
	PATH="$work:$PATH" "$launcher" static 2>"$work/err"
	status=$?
	check "... found through PATH, the warning names the file" \
		test "$status|$(cat "$work/err")" = "3|shmshim: warning: $work/static $warning"
else
	skip 2 "no static C library (glibc's comes with libc6-dev)"
fi
if ${CC:-cc} -static-pie -o "$work/static-pie" "$work/three.c" 2>/dev/null; then
	run "$work/static-pie"
	check "a static-pie program: the same warning" \
		test "$status|$err" = "3|shmshim: warning: $work/static-pie $warning"
else
	skip 1 "the compiler cannot link -static-pie"
fi
${CC:-cc} -o "$work/dynamic" "$work/three.c"
run "$work/dynamic"
check "a dynamic program: no warning" test "$status|$err" = "3|"
printf '#!/bin/sh\nexit 4\n' >"$work/script"
chmod 0755 "$work/script"
run "$work/script"
check "a script: no warning" test "$status|$err" = "4|"
# A 32-bit i386 program made by hand (no -m32 needed): exit(5) through
# int 0x80. The library is 64-bit (or of another machine): a warning.
/usr/bin/python3 -c '
import struct, sys
code = bytes([0xb8, 1, 0, 0, 0, 0xbb, 5, 0, 0, 0, 0xcd, 0x80])
base, eh, ph = 0x08048000, 52, 32
size = eh + ph + len(code)
sys.stdout.buffer.write(b"\x7fELF\x01\x01\x01" + bytes(9)
    + struct.pack("<HHIIIIIHHHHHH", 2, 3, 1, base + eh + ph, eh, 0, 0, eh, ph, 1, 0, 0, 0)
    + struct.pack("<8I", 1, 0, base, base, size, size, 5, 0x1000) + code)' >"$work/i386"
chmod 0755 "$work/i386"
run "$work/i386"
check "a 32-bit program: a warning naming both word sizes" \
	sh -c "echo '$err' | grep -q '^shmshim: warning: $work/i386 is a 32-bit i386 program and the library is 64-bit'"
diag "the 32-bit program's exit status: $status (5 where the kernel runs i386 programs)"

# Without /proc, the launcher finds itself through argv[0]: by its path,
# and through PATH.
if [ "$(id -u)" -eq 0 ] && unshare -m true 2>/dev/null; then
	# shellcheck disable=SC2016 # expanded by the inner shell
	out=$(unshare -m --propagation private sh -c '
		mount -t tmpfs -o ro,size=4k shmshim-noproc /proc || exit 1
		"$1" --print-lib && PATH="$(dirname "$1"):$PATH" shmshim --print-lib' sh "$launcher")
	check "without /proc, it finds the library from argv[0] (a path, and through PATH)" \
		test "$out" = "$lib
$lib"
else
	skip 1 "hiding /proc needs root and unshare -m"
fi
done_testing
