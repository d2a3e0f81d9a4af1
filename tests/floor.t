#!/usr/bin/python3
"""One build for glibc 2.17 and newer: the library and shmclean, as built
here, ask for no symbol version newer than GLIBC_2.17 and for no library
but libc (and libpthread, see shim/oldsym.h); a program started through
tools/oldstart.c (as shmclean is) still runs its constructors, once.

    tests/floor.t [BUILDDIR [READELF [CC [RUN]]]]

The arguments let tests/floor-aarch64.t check the aarch64 build the same
way (RUN: the emulator, with QEMU_LD_PREFIX in the environment)."""
import os
import re
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import ok, skip, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FLOOR = (2, 17)
ALLOWED = {"libc.so.6", "libpthread.so.0", "libdl.so.2"}


def versions(readelf, path):
    out = subprocess.run([readelf, "-V", "-W", path], capture_output=True, text=True,
                         check=True).stdout
    needs = out.split("Version needs section", 1)
    return sorted(set(re.findall(r"Name: (GLIBC_[0-9.]+)", needs[1]))) if len(needs) > 1 else []


def needed(readelf, path):
    out = subprocess.run([readelf, "-d", "-W", path], capture_output=True, text=True,
                         check=True).stdout
    return set(re.findall(r"\(NEEDED\)\s+Shared library: \[([^]]+)\]", out))


def too_new(name):
    nums = tuple(int(n) for n in name[len("GLIBC_"):].split("."))
    return nums > FLOOR


def main():
    build = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("BUILDDIR", "build")
    readelf = sys.argv[2] if len(sys.argv) > 2 else "readelf"
    cc = sys.argv[3] if len(sys.argv) > 3 else os.environ.get("CC", "cc")
    run = sys.argv[4].split() if len(sys.argv) > 4 else []
    build = os.path.join(TOP, build)
    for f in ["libshmshim.so", "shmclean"]:
        path = os.path.join(build, f)
        vers = versions(readelf, path)
        ok(vers and not [v for v in vers if too_new(v)],
           "%s asks for no glibc newer than 2.17 (%s)" % (f, ", ".join(vers)),
           "too new: %s" % [v for v in vers if too_new(v)])
        libs = needed(readelf, path)
        ok(libs <= ALLOWED, "%s needs only libc (and libpthread): %s" % (f, sorted(libs)),
           "others: %s" % sorted(libs - ALLOWED))
    ok("libpthread.so.0" in needed(readelf, os.path.join(build, "libshmshim.so")),
       "the library names libpthread, where glibc before 2.34 keeps sem_init and pthread_once")

    with tempfile.TemporaryDirectory(prefix="shmshim-floor.") as d:
        src = os.path.join(d, "ctor.c")
        with open(src, "w") as f:
            f.write("static int ran;\n"
                    "__attribute__((constructor)) static void c(void) { ran++; }\n"
                    "int main(int argc, char **argv) { (void)argv; return ran == 1 && argc == 3 ? 0 : 1; }\n")
        prog = os.path.join(d, "ctor")
        built = subprocess.run([cc, "-o", prog, src, os.path.join(TOP, "tools", "oldstart.c"),
                                "-Wl,--wrap=__libc_start_main"], capture_output=True, text=True)
        if built.returncode != 0:
            skip(2, "cannot build a program with %s: %s" % (cc, built.stderr.strip()[:200]))
        else:
            ok(subprocess.run(run + [prog, "a", "b"]).returncode == 0,
               "a program started through tools/oldstart.c runs its constructor once, "
               "and main gets its arguments")
            vers = versions(readelf, prog)
            ok(vers and not [v for v in vers if too_new(v)],
               "... and asks for no glibc newer than 2.17 (%s)" % ", ".join(vers))
    done()


main()
