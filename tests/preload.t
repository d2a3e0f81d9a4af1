#!/bin/sh
# Interposition: programs bound to the old shm_open@GLIBC_2.2.5 from
# librt.so.1 and sem_open@GLIBC_2.2.5 from libpthread.so.0, look-ups through
# dlsym, and an uncontended call that never sleeps.
# shellcheck source=tests/lib.sh
. "$(dirname "$0")/lib.sh"
prog="$build/tests/symver_open"

objdump -T "$prog" | grep -q '(GLIBC_2.2.5) *shm_open$'
ok $? "the client binds shm_open@GLIBC_2.2.5"
readelf -V "$prog" | grep -A2 'File: librt.so.1' | grep -q 'GLIBC_2.2.5'
ok $? "... which it requires from librt.so.1"

LD_PRELOAD="$lib" "$prog" create /old
ok $? "under the shim, the old symbol creates /old"
check "... as <root>/.SHMDold, holding what it wrote" \
	test "$(cat "$root/.SHMDold" 2>/dev/null)" = old
LD_PRELOAD="$lib" "$prog" unlink /old
ok $? "the old shm_unlink removes it"
check "... leaving the root empty" root_empty

objdump -T "$prog" | grep -q '(GLIBC_2.2.5) *sem_open$'
ok $? "the client binds sem_open@GLIBC_2.2.5"
readelf -V "$prog" | grep -A2 'File: libpthread.so.0' | grep -q 'GLIBC_2.2.5'
ok $? "... which it requires from libpthread.so.0"
check "under the shim, the old sem_open creates, posts and reads a semaphore (3 + 1 = 4)" \
	test "$(LD_PRELOAD="$lib" "$prog" sem /oldsem)" = 4
check "... as <root>/.SEMDoldsem" test -f "$root/.SEMDoldsem"
LD_PRELOAD="$lib" "$prog" semunlink /oldsem
ok $? "the old sem_unlink removes it"
check "... leaving the root empty" root_empty

LD_PRELOAD="$lib" "$prog" dlsym /dl
ok $? "shm_open found by dlsym(RTLD_DEFAULT) works under the shim"
check "... and is the shim's: <root>/.SHMDdl exists" test -f "$root/.SHMDdl"
LD_PRELOAD="$lib" "$prog" unlink /dl

native="shmshim-native-$$"
"$prog" create "/$native"
ok $? "without the shim the same program runs natively"
check "... and its object is in /dev/shm, not in the root" \
	sh -c "test -f /dev/shm/$native && test -z \"\$(ls -A '$root')\""
"$prog" unlink "/$native"
check "... where it unlinks it" test ! -e "/dev/shm/$native"

if command -v strace >/dev/null 2>&1; then
	trace="$root.strace"
	LD_PRELOAD="$lib" strace -f -qq -o "$trace" \
		-e trace=nanosleep,clock_nanosleep,sched_yield,flock "$prog" create /nosleep
	check "an uncontended shm_open takes no lock (no flock in strace)" \
		sh -c "! grep -q flock '$trace'"
	check "... and never sleeps or yields" \
		sh -c "! grep -Eq 'nanosleep|sched_yield' '$trace'"
	LD_PRELOAD="$lib" strace -f -qq -o "$trace" \
		-e trace=nanosleep,clock_nanosleep,sched_yield,flock "$prog" unlink /nosleep
	check "an uncontended shm_unlink takes the object's lock (flock in strace)" \
		grep -q 'flock(.*LOCK_EX|LOCK_NB) *= 0' "$trace"
	check "... and never sleeps or yields" \
		sh -c "! grep -Eq 'nanosleep|sched_yield' '$trace'"
	rm -f "$trace"
else
	skip 4 "strace is not installed"
fi
# An unusable SHMSHIM_DIR never means /tmp: the calls fail, and the
# library says why, once per process, unless SHMSHIM_QUIET is set.
# The script removes whatever it made, even where it should have made nothing.
calls='import ctypes, os
c = ctypes.CDLL(None, use_errno=True)
for name in (b"/unusable", b"/unusable2"):
    c.shm_open(name, os.O_RDWR | os.O_CREAT, 0o600)
    print(os.strerror(ctypes.get_errno()))
made = [os.path.exists("/tmp/.SHMDunusable" + n) for n in ("", "2")]
c.shm_unlink(b"/unusable")
print(os.strerror(ctypes.get_errno()))
c.shm_unlink(b"/unusable2")
print("made in /tmp" if any(made) else "nothing in /tmp")'
err="$root.err"
out=$(SHMSHIM_DIR='' LD_PRELOAD="$lib" /usr/bin/python3 -c "$calls" 2>"$err")
check "an empty SHMSHIM_DIR: shm_open and shm_unlink fail with ENOENT" \
	test "$(echo "$out" | head -3)" = "$(printf 'No such file or directory\nNo such file or directory\nNo such file or directory')"
check "... saying why in exactly one line on stderr" \
	sh -c "test \"\$(grep -c '^shmshim: SHMSHIM_DIR is set but empty' '$err')\" = 1 && test \"\$(wc -l < '$err')\" -eq 1"
check "... and nothing is made in /tmp" test "$(echo "$out" | tail -1)" = "nothing in /tmp"
out=$(SHMSHIM_DIR='' SHMSHIM_QUIET=1 LD_PRELOAD="$lib" /usr/bin/python3 -c "$calls" 2>"$err")
check "SHMSHIM_QUIET=1: the same failures, and nothing on stderr" \
	sh -c "test '$(echo "$out" | head -1)' = 'No such file or directory' && test ! -s '$err'"
long=/$(head -c 5000 /dev/zero | tr '\0' d)
out=$(SHMSHIM_DIR="$long" LD_PRELOAD="$lib" /usr/bin/python3 -c "$calls" 2>"$err")
check "a SHMSHIM_DIR longer than PATH_MAX: ENAMETOOLONG" \
	test "$(echo "$out" | head -1)" = "File name too long"
check "... saying why once" \
	test "$(grep -c '^shmshim: SHMSHIM_DIR is longer than PATH_MAX' "$err")" = 1
rm -f "$err"

# A name only the strict rules refuse is explained once per process; one
# glibc refuses too, or glibc mode, or SHMSHIM_QUIET: nothing is said.
names='import ctypes, os, sys
c = ctypes.CDLL(None, use_errno=True)
for name in sys.argv[1:]:
    fd = c.shm_open(name.encode(), os.O_RDWR | os.O_CREAT, 0o600)
    print(os.strerror(ctypes.get_errno()) if fd < 0 else "opened")
    if fd >= 0:
        os.close(fd)
        c.shm_unlink(name.encode())'
out=$(LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" jack_sem.0 other 2>"$err")
check "strict names: shm_open(\"jack_sem.0\") and (\"other\") fail with EINVAL" \
	test "$out" = "$(printf 'Invalid argument\nInvalid argument')"
check "... and stderr explains it in one line, naming the call, the name and SHMSHIM_NAMES=glibc" \
	sh -c "test \"\$(wc -l < '$err')\" -eq 1 && grep -q '^shmshim: shm_open(\"jack_sem.0\") .*SHMSHIM_NAMES=glibc' '$err'"
LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" a/b >/dev/null 2>"$err"
check "a name glibc refuses too (a/b): nothing is said" test ! -s "$err"
out=$(SHMSHIM_NAMES=glibc LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" jack_sem.0 2>"$err")
check "glibc mode: the name works, and nothing is said" \
	sh -c "test '$out' = opened && test ! -s '$err'"
SHMSHIM_QUIET=1 LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" jack_sem.0 >/dev/null 2>"$err"
check "SHMSHIM_QUIET=1: nothing is said" test ! -s "$err"
SHMSHIM_NAMES=GLIBC SHMSHIM_LOCK_TIMEOUT_MS=abc LD_PRELOAD="$lib" \
	/usr/bin/python3 -c "$names" /x /y >/dev/null 2>"$err"
check "SHMSHIM_NAMES=GLIBC and SHMSHIM_LOCK_TIMEOUT_MS=abc: one line each, saying what is used instead" \
	sh -c "test \"\$(wc -l < '$err')\" -eq 2 && grep -q 'SHMSHIM_NAMES is not understood.*strict rules are used' '$err' && grep -q 'SHMSHIM_LOCK_TIMEOUT_MS is not .*10000' '$err'"
SHMSHIM_NAMES=strict SHMSHIM_LOCK_TIMEOUT_MS=250 LD_PRELOAD="$lib" \
	/usr/bin/python3 -c "$names" /x >/dev/null 2>"$err"
check "SHMSHIM_NAMES=strict and a good time-out: nothing is said" test ! -s "$err"

# A root that is missing, not a directory, or not writable is named, once.
SHMSHIM_DIR="$root/missing" LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" /a /b >/dev/null 2>"$err"
check "SHMSHIM_DIR missing: one line naming it and why (the shim does not create it)" \
	sh -c "test \"\$(wc -l < '$err')\" -eq 1 && grep -q '$root/missing does not exist (the shim does not create it)' '$err'"
check "... and it is not created" test ! -e "$root/missing"
touch "$root/file"
SHMSHIM_DIR="$root/file" LD_PRELOAD="$lib" /usr/bin/python3 -c "$names" /a >/dev/null 2>"$err"
check "SHMSHIM_DIR a file: 'is not a directory'" grep -q "$root/file is not a directory" "$err"
rm -f "$root/file"
mkdir -m 0755 "$root/ro"
if command -v setpriv >/dev/null 2>&1 && [ "$(id -u)" -eq 0 ]; then
	# A copy nobody can read: the checkout may be closed to other users.
	pub=$(mktemp -d /tmp/shmshim-bin.XXXXXX)
	chmod 0755 "$pub"
	cp "$lib" "$pub/" && chmod 0755 "$pub/libshmshim.so"
	SHMSHIM_DIR="$root/ro" LD_PRELOAD="$pub/libshmshim.so" setpriv --reuid=nobody \
		--regid=nogroup --clear-groups /usr/bin/python3 -c "$names" /a >/dev/null 2>"$err"
	check "SHMSHIM_DIR not writable, creating as nobody: 'is not writable by this user'" \
		grep -q "$root/ro is not writable by this user" "$err"
	rm -rf "$pub"
else
	skip 1 "needs root and setpriv to create as nobody"
fi
rmdir "$root/ro"
LD_PRELOAD="$lib" /usr/bin/python3 -c 'import ctypes, os
ctypes.CDLL(None).shm_open(b"/absent", os.O_RDONLY, 0)' 2>"$err"
check "a missing object in a good root (ENOENT): nothing is said" test ! -s "$err"
rm -f "$err"

check "the root is empty at the end" root_empty
done_testing
