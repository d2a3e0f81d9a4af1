#!/usr/bin/python3
"""shmclean's output cannot be forged by the names it prints: object names
and process names are any bytes their makers chose, and must neither reach
the terminal raw nor fake a row of the table, and --json must stay valid
UTF-8 with the exact bytes recoverable. Also the usage errors (a bad
option, options that contradict each other, a bad --dir, SHMSHIM_DIR or
--older-than), each said once, the messages for a bad root, and the one
line for an empty one."""
import contextlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLEAN = os.path.join(BUILD, "shmclean")
FAKE_NOW = os.path.join(BUILD, "tests", "fake_now.so")
PATH_MAX = 4096  # Linux's, as in <limits.h>
LONG_MAX = 2**63 - 1

# Names that once reached the terminal raw, broke a row, or were not told
# apart in JSON.
WEIRD = [
    b"a\nb",                        # a forged row
    b"x\norphan   shm   0 root 0600 0s  \xe2\x88\x95forged",  # U+2215
    b"\x1b]0;pwned\x07",            # sets the terminal's title
    b"\x1b[2J",                     # clears the screen
    b"f\xff",                       # not UTF-8 ...
    b"f\xc3\xbf",                   # ... and U+00FF: once printed alike
    b"\xc0\xaf",                    # overlong '/'
    b"\xe0\x80\xaf",                # overlong '/', 3 bytes
    b"\xed\xa0\x80",                # a surrogate
    b"\xf4\x90\x80\x80",            # past U+10FFFF
    b"\xe2\x80",                    # cut short
    b"\xc2\x9b31m",                 # C1 CSI
    b"\x7fdel",
    b"abc\xe2\x80\xaetxt.exe",      # right-to-left override
    b"iso\xe2\x81\xa6late",         # left-to-right isolate
    b"two words",
    b"nb\xc2\xa0sp",
    b"back\\slash",
    b"\\x41",                       # looks like an escape already
    b"caf\xc3\xa9",                 # valid, printable: stays
    b"\xf0\x9f\x98\x80",            # valid, printable: stays
]

INVISIBLE = [(0x00a0, 0x00a0), (0x061c, 0x061c), (0x1680, 0x1680), (0x2000, 0x200f),
             (0x2028, 0x202f), (0x205f, 0x2069), (0x3000, 0x3000), (0xfeff, 0xfeff)]


def is_control(c):
    return c < 0x20 or 0x7f <= c <= 0x9f


def is_invisible(c):
    return any(lo <= c <= hi for lo, hi in INVISIBLE)


def utf8_units(b):
    """Splits b into (bytes, char or None): each valid UTF-8 character, or
    one byte that is not part of one. Python's decoder is strict (no
    overlongs, surrogates or values past U+10FFFF)."""
    i = 0
    while i < len(b):
        lead = b[i]
        n = 1 if lead < 0x80 else 2 if 0xc2 <= lead < 0xe0 else \
            3 if 0xe0 <= lead < 0xf0 else 4 if 0xf0 <= lead < 0xf5 else 0
        try:
            c = b[i:i + n].decode("utf-8") if n and i + n <= len(b) else None
        except UnicodeDecodeError:
            c = None
        if c is None:
            yield b[i:i + 1], None
            i += 1
        else:
            yield b[i:i + n], c
            i += n


def escaped(b):
    """The documented text form: \\\\ for a backslash, \\xhh for each byte of
    a control, space, invisible or bidi character and each invalid byte."""
    out = []
    for raw, c in utf8_units(b):
        if c == "\\":
            out.append("\\\\")
        elif c is None or c == " " or is_control(ord(c)) or is_invisible(ord(c)):
            out.append("".join("\\x%02x" % x for x in raw))
        else:
            out.append(c)
    return "".join(out)


def display(b):
    """The documented JSON display form: U+FFFD for each invalid byte."""
    return "".join("\ufffd" if c is None else c for _, c in utf8_units(b))


def is_utf8(b):
    try:
        b.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


def random_names(seed, count=200):
    rng = random.Random(seed)
    alphabet = [x for x in range(1, 256) if x != 0x2f]
    names = set()
    while len(names) < count:
        names.add(bytes(rng.choice(alphabet) for _ in range(rng.randint(1, 200))))
    return sorted(names)


@contextlib.contextmanager
def fresh_root(prefix="shmshim-out.", where=None):
    root = tempfile.mkdtemp(prefix=prefix, dir=where)
    try:
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


def plant(root, names):
    for name in names:
        with open(os.fsencode(root) + b"/.SHMD" + name, "wb"):
            pass


def shmclean(root, *args, env=None, valgrind=False):
    """Runs shmclean on root (SHMSHIM_DIR unless env says otherwise); bytes out."""
    e = dict(os.environ)
    e.pop("LD_PRELOAD", None)
    e.pop("SHMSHIM_DIR", None)
    if root is not None:
        e["SHMSHIM_DIR"] = root
    e.update(env or {})
    cmd = [CLEAN] + list(args)
    if valgrind:
        cmd = ["valgrind", "-q", "--error-exitcode=99"] + cmd
    return subprocess.run(cmd, env=e, capture_output=True, timeout=120)


def output_is_inert(out):
    """None when out is valid UTF-8 whose only control is the newline that
    ends each line, with no C1, invisible or bidi character; else why not."""
    try:
        text = out.decode("utf-8")
    except UnicodeDecodeError as e:
        return "not valid UTF-8: %s" % e
    if out and not out.endswith(b"\n"):
        return "the last line is not ended"
    for ch in text:
        c = ord(ch)
        if ch != "\n" and (is_control(c) or is_invisible(c)):
            return "a raw U+%04X" % c
    return None


def table_rows(out):
    """The rows of a -l table after its header, as lists of fields."""
    lines = out.decode("utf-8", "replace").split("\n")[:-1]
    return lines[0], [line.split() for line in lines[1:]]


def test_table(seed):
    """-l over weird and random names: one row each, nothing raw."""
    names = WEIRD + random_names(seed)
    with fresh_root() as root:
        plant(root, names)
        r = shmclean(root, "-l")
        ok(r.returncode == 0, "-l over %d weird names: exit 0" % len(names), r.stderr)
        why = output_is_inert(r.stdout)
        ok(why is None, "... the table is valid UTF-8 with no raw control, C1 or bidi "
           "character", why)
        header, rows = table_rows(r.stdout)
        ok(header.startswith("STATE") and len(rows) == len(names),
           "... one line per object plus the header (%d rows for %d names)"
           % (len(rows), len(names)))
        ok(all(len(row) == 7 for row in rows),
           "... every row has exactly its 7 fields: no name adds a column",
           [row for row in rows if len(row) != 7][:3])
        shown = sorted(row[6] for row in rows if len(row) == 7)
        want = sorted(escaped(b"/" + n) for n in names)
        ok(shown == want, "... each name appears in the documented escaped form",
           [(s, w) for s, w in zip(shown, want) if s != w][:5])
        byname = {row[6]: row for row in rows if len(row) == 7}
        ok(byname.get("/a\\x0ab") and byname.get("/\\x1b]0;pwned\\x07") and
           byname.get("/f\\xff") and byname.get("/f\u00ff") and
           byname.get("/\\xc2\\x9b31m") and byname.get("/back\\\\slash") and
           byname.get("/two\\x20words") and byname.get("/caf\u00e9") and
           byname.get("/abc\\xe2\\x80\\xaetxt.exe") and byname.get("/\\xe2\\x80"),
           "... examples: /a\\x0ab, /f\\xff beside /f\u00ff, /two\\x20words, "
           "/back\\\\slash, /caf\u00e9 as it is", sorted(byname)[:30])


def recover(entry, key):
    """The exact bytes of entry[key]: from key_hex when there, else the string."""
    if key + "_hex" in entry:
        return bytes.fromhex(entry[key + "_hex"])
    return entry[key].encode("utf-8")


def parse_json(out):
    """The document, parsed from bytes decoded strictly as UTF-8; or None."""
    try:
        return json.loads(out.decode("utf-8", "strict"))
    except (UnicodeDecodeError, ValueError) as e:
        print("# not JSON: %s" % e)
        return None


def hex_where_needed(entry, key, raw):
    """key_hex is there exactly when raw is not UTF-8, and key then shows
    U+FFFD for each bad byte."""
    if is_utf8(raw):
        return key + "_hex" not in entry and entry[key] == raw.decode("utf-8")
    return entry.get(key + "_hex") == raw.hex() and entry[key] == display(raw)


def test_json(seed):
    """--json -l over weird and random names: valid, lossless."""
    names = WEIRD + random_names(seed)
    with fresh_root() as root:
        plant(root, names)
        r = shmclean(root, "-l", "--json")
        doc = parse_json(r.stdout)
        ok(r.returncode == 0 and doc is not None,
           "--json -l over %d weird names parses as strict UTF-8 JSON" % len(names), r.stderr)
        why = output_is_inert(r.stdout)
        ok(why is None, "... and has no raw control, C1 or bidi character", why)
        entries = doc["entries"] if doc else []
        got = sorted(recover(e, "name") for e in entries)
        ok(got == sorted(b"/" + n for n in names),
           "... every name's exact bytes come back from name or name_hex",
           [g for g in got if g[1:] not in names][:5])
        rootb = os.fsencode(root)
        ok(sorted(recover(e, "path") for e in entries) ==
           sorted(rootb + b"/.SHMD" + n for n in names),
           "... and every path's from path or path_hex")
        bad = [e for e in entries
               if not (hex_where_needed(e, "name", recover(e, "name")) and
                       hex_where_needed(e, "path", recover(e, "path")))]
        ok(entries and not bad,
           "... name_hex and path_hex only for bytes that are not UTF-8, and the "
           "string then has U+FFFD for each bad byte", bad[:3])
        byname = {recover(e, "name"): e for e in entries}
        a, b = byname.get(b"/f\xff", {}), byname.get(b"/f\xc3\xbf", {})
        ok(a.get("name") == "/f\ufffd" and a.get("name_hex") == "2f66ff" and
           b.get("name") == "/f\u00ff" and "name_hex" not in b,
           "... /f\\xff and /f\\xc3\\xbf are told apart", (a, b))
        c = byname.get(b"/\xed\xa0\x80", {})
        ok(c.get("name") == "/\ufffd\ufffd\ufffd" and c.get("name_hex") == "2feda080",
           "... a surrogate is not valid UTF-8 (one U+FFFD per byte)", c)
        c = byname.get(b"/\xc2\x9b31m", {})
        ok(c.get("name") == "/\u009b31m" and b'"/\\u009b31m"' in r.stdout,
           "... C1 is valid UTF-8 but written as a \\u escape", c)
        ok(doc and doc.get("root") == root and "root_hex" not in doc,
           "... a UTF-8 root is a plain string", doc and doc.get("root"))


def test_root_json():
    """A root whose own path is not UTF-8: root_hex, and path_hex everywhere."""
    with fresh_root(prefix=b"shmshim-out.\xff\x1b[2J") as root:
        plant(root, [b"x"])
        r = shmclean(None, "-l", "--json", "-d", root)
        doc = parse_json(r.stdout) or {}
        ok(r.returncode == 0 and doc.get("root_hex") == root.hex() and
           doc.get("root") == display(root),
           "--json: a root that is not UTF-8 is shown with U+FFFD, and root_hex", doc)
        e = (doc.get("entries") or [{}])[0]
        ok(e.get("path_hex") == (root + b"/.SHMDx").hex() and
           e.get("name") == "/x" and "name_hex" not in e,
           "... its entries' paths have path_hex, their names need none", e)


def test_messages():
    """Messages on stderr that name a path or an argument: escaped, one line."""
    with fresh_root(prefix=b"shmshim-out.\xff\x1b[2J") as root:
        missing = root + b"/\x1b[2J\nshmclean: all clean"
        r = shmclean(None, "-l", "-d", missing)
        want = "shmclean: %s: No such file or directory\n" % escaped(missing)
        ok(r.returncode == 1 and r.stderr.decode("utf-8", "replace") == want,
           "a missing root: its path escaped, on one line", r.stderr)
        name = b"/\x1b]0;pwned\x07\nx"
        r = shmclean(None, "-d", root, "-r", name)
        want = "shmclean: %s: No such file or directory\n" % escaped(name)
        ok(r.returncode == 1 and r.stderr.decode("utf-8", "replace") == want,
           "-r of a missing object: its name escaped, on one line", r.stderr)
        r = shmclean(None, "-d", root, "-n", "-r", name)
        ok(r.returncode == 0 and r.stdout.decode() == "would remove %s\n" % escaped(name),
           "-n -r: the name escaped", r.stdout)
        r = shmclean(None, "-d", root, "-l", name)
        ok(r.returncode == 2 and output_is_inert(r.stderr) is None and
           escaped(name) in r.stderr.decode("utf-8", "replace"),
           "a usage error quotes the argument escaped", r.stderr)


def test_actions(seed):
    """The lines of a -n and of a plain run: one per object, escaped, then
    the summary."""
    names = WEIRD + random_names(seed, 50)
    with fresh_root() as root:
        plant(root, names)
        for args, verb in ((["-n"], "would remove"), ([], "removed")):
            r = shmclean(root, "--older-than", "0", *args)
            why = output_is_inert(r.stdout)
            lines = r.stdout.decode("utf-8", "replace").split("\n")[:-1]
            prefix = verb + " shm "
            shown = sorted(line[len(prefix):].split(" (")[0] for line in lines
                           if line.startswith(prefix))
            summary = "summary: %s %d, %s 0" % (verb, len(names),
                                                "would keep" if args else "kept")
            ok(r.returncode == 0 and why is None and len(lines) == len(names) + 1 and
               shown == sorted(escaped(b"/" + n) for n in names) and lines[-1] == summary,
               "%s --older-than 0: one line per object, names escaped, nothing raw; "
               "then '%s'" % ("shmclean -n" if args else "a plain run", summary),
               why or r.stderr or lines[:5] + lines[-1:])
        ok(os.listdir(root) == [], "... and the plain run removed them all",
           os.listdir(root)[:5])


HOLDER = r"""
import ctypes, os, sys
comm = bytes.fromhex(sys.argv[1])
if ctypes.CDLL(None, use_errno=True).prctl(15, ctypes.c_char_p(comm), 0, 0, 0) != 0:
    sys.exit("prctl(PR_SET_NAME): %s" % os.strerror(ctypes.get_errno()))
fd = os.open(bytes.fromhex(sys.argv[2]), os.O_RDONLY)
print("ready", flush=True)
sys.stdin.read()
"""


def start_holder(comm, path):
    p = subprocess.Popen([sys.executable, "-c", HOLDER, comm.hex(), path.hex()],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    line = p.stdout.readline()
    if line != b"ready\n":
        end(p)
        raise RuntimeError("the holder did not start: %r" % line)
    return p


def end(p):
    """Ends a holder this test started, by its PID."""
    if p.poll() is None:
        os.kill(p.pid, signal.SIGKILL)
    p.wait(30)


def comm_of(pid):
    """What shmclean reads as the command: /proc/PID/comm without the
    newline the kernel ends it with (one of the process's own stays)."""
    with open("/proc/%d/comm" % pid, "rb") as f:
        return f.read()[:-1]


@contextlib.contextmanager
def holders(comms):
    """A root with one object, held open by a process for each comm (its
    name as prctl(PR_SET_NAME) sets it); yields the root and, by PID, each
    comm as shmclean reads it."""
    started = []
    with fresh_root() as root:
        plant(root, [b"held"])
        path = os.fsencode(root) + b"/.SHMDheld"
        try:
            for comm in comms:
                started.append(start_holder(comm, path))
            want = {p.pid: comm_of(p.pid) for p in started}
            print("# comms as /proc shows them: %r" % want)
            yield root, want
        finally:
            for p in started:
                end(p)


COMMS = [b"\x1b[2Jevil\n", b"\x1b]0;p\x07 \xc2\x9b\xe2\x80\xae\xff", b"x\nforged 1 2"]


def test_comm_table():
    """Process names chosen by their process, in the table."""
    with holders(COMMS) as (root, want):
        r = shmclean(root, "-l")
        why = output_is_inert(r.stdout)
        ok(r.returncode == 0 and why is None,
           "-l with holders named by escapes: nothing raw", why or r.stderr)
        header, rows = table_rows(r.stdout)
        row = rows[0] if len(rows) == 1 else []
        users = sorted("%d(%s)" % (pid, escaped(c)) for pid, c in want.items())
        ok(len(rows) == 1 and row[:1] == ["in-use"] and sorted(row[7:]) == users,
           "... one row, in-use, each user as PID(escaped comm)", (rows, users))


def test_comm_json():
    """Process names chosen by their process, in JSON."""
    with holders(COMMS) as (root, want):
        r = shmclean(root, "-l", "--json")
        doc = parse_json(r.stdout) or {}
        e = (doc.get("entries") or [{}])[0]
        users = e.get("users", [])
        got = {u["pid"]: recover(u, "comm") for u in users}
        ok(output_is_inert(r.stdout) is None and got == want,
           "--json: every comm's exact bytes come back, nothing raw", (got, want))
        ok(users and all(hex_where_needed(u, "comm", recover(u, "comm")) for u in users) and
           any("comm_hex" in u for u in users),
           "... comm_hex only for a comm that is not UTF-8", users)


def one_line(r):
    return r.stderr.count(b"\n") == 1


def one_usage_error(r):
    """Whether stderr is one message under shmclean's name, and the hint:
    nothing from getopt, under the name the program was started by."""
    lines = r.stderr.decode("utf-8", "replace").split("\n")
    return (len(lines) == 3 and lines[0].startswith("shmclean: ") and
            lines[1] == "Try 'shmclean --help'." and lines[2] == "")


def test_bad_options():
    """An option not understood: one message, under one name, exit 2."""
    with fresh_root() as root:
        for args, want in (
                (["--bogus"], "unknown option '--bogus'"),
                (["--bogus=3"], "unknown option '--bogus'"),
                (["-x"], "unknown option '-x'"),
                (["-lx"], "unknown option '-x'"),
                (["--json", "-xn"], "unknown option '-x'"),
                (["--list=3"], "option '--list' takes no argument"),
                (["--d"], "option '--d' is ambiguous"),
                (["--dir"], "option '--dir' needs an argument"),
                (["-d"], "option '-d' needs an argument"),
                (["-ld"], "option '-d' needs an argument"),
                (["--older-than"], "option '--older-than' needs an argument"),
                (["--\x1b[2J"], "unknown option '--\\x1b[2J'")):
            r = shmclean(root, *args)
            err = r.stderr.decode("utf-8", "replace")
            ok(r.returncode == 2 and r.stdout == b"" and one_usage_error(r) and
               err.startswith("shmclean: %s\n" % want),
               "%s: exit 2, one message: %s" % (" ".join(args).encode("unicode_escape").decode(),
                                                want.encode("unicode_escape").decode()),
               (r.returncode, err))


def test_contradictions():
    """Options that contradict each other, or that the others would make
    pointless, are usage errors, said once; nothing is done."""
    with fresh_root() as root:
        plant(root, [b"orphan"])
        for args in (["-l", "-n"], ["-l", "-r", "/orphan"], ["-l", "-f"],
                     ["-l", "--older-than", "0"], ["-r", "--json", "/orphan"],
                     ["-r", "-f", "/orphan"], ["-r", "--older-than", "0", "/orphan"],
                     ["--sem", "--older-than", "0"], ["-n", "--sem"],
                     ["-q", "-v", "--older-than", "0"], ["-q", "-l"], ["-q", "-n"],
                     ["-q", "--json", "--older-than", "0"]):
            r = shmclean(root, *args)
            ok(r.returncode == 2 and r.stdout == b"" and one_usage_error(r) and
               os.listdir(root) == [".SHMDorphan"],
               "shmclean %s: exit 2, one message, nothing removed" % " ".join(args),
               (r.returncode, r.stderr, os.listdir(root)))


def test_empty():
    """An empty root: one line that says so, or an empty list in JSON."""
    with fresh_root() as root:
        want = ("no objects in %s\n" % root).encode()
        for args in ([], ["-l"], ["-n"], ["-v"]):
            r = shmclean(root, *args)
            ok(r.returncode == 0 and r.stdout == want and r.stderr == b"",
               "shmclean%s over an empty root: one line, 'no objects in ROOT'"
               % "".join(" " + a for a in args), (r.stdout, r.stderr))
        r = shmclean(root, "-q")
        ok(r.returncode == 0 and r.stdout == b"" and r.stderr == b"",
           "-q over an empty root: nothing", (r.stdout, r.stderr))
        for args in (["--json"], ["-l", "--json"], ["-n", "--json"]):
            r = shmclean(root, *args)
            doc = parse_json(r.stdout) or {}
            ok(r.returncode == 0 and doc.get("entries") == [] and r.stderr == b"",
               "shmclean %s over an empty root: a document with no entries" % " ".join(args),
               r.stdout)


def test_bad_dir():
    """An empty or over-long --dir or SHMSHIM_DIR is a usage error, not /tmp."""
    long_dir = "/" + "d" * PATH_MAX
    for args, env, what, problem in (
            (["-d", ""], None, "--dir", "empty"),
            (["--dir="], None, "--dir", "empty"),
            (["-d", long_dir], None, "--dir", "too long"),
            ([], {"SHMSHIM_DIR": ""}, "SHMSHIM_DIR", "empty"),
            ([], {"SHMSHIM_DIR": long_dir}, "SHMSHIM_DIR", "too long")):
        r = shmclean(None, "-l", *args, env=env)
        err = r.stderr.decode("utf-8", "replace")
        ok(r.returncode == 2 and r.stdout == b"" and one_line(r) and
           err.startswith("shmclean: " + what) and problem in err,
           "%s %s: exit 2, nothing listed, one line saying it is %s"
           % (what, "of %d bytes" % len(long_dir) if problem == "too long" else "empty",
              problem), (r.returncode, err, r.stdout[:200]))
    r = shmclean(None, "-l", "-d", "/" + "d" * (PATH_MAX - 2))
    ok(r.returncode == 1 and b"File name too long" in r.stderr,
       "--dir of PATH_MAX-1 bytes is used as given (and the system refuses it)", r.stderr)
    with fresh_root() as root:
        r = shmclean(None, "-l", "-d", root, env={"SHMSHIM_DIR": ""})
        ok(r.returncode == 0, "an empty SHMSHIM_DIR does not matter when --dir is given",
           r.stderr)


def test_older_than():
    """--older-than takes exactly the documented forms; one whose seconds
    do not fit is a usage error, not a wrap."""
    with fresh_root() as root:
        plant(root, [b"old"])
        two_days_later = {"LD_PRELOAD": FAKE_NOW,
                          "FAKE_NOW": "%d" % (os.lstat(os.path.join(root, ".SHMDold")).st_ctime
                                              + 2 * 86400)}
        r = shmclean(root, "-n", "--older-than", "1d", env=two_days_later)
        ok(r.returncode == 0 and r.stdout == b"would remove shm /old (orphan, 0 bytes)\n"
           b"summary: would remove 1, would keep 0\n",
           "-n --older-than 1d would remove an orphan that last changed 2 days ago", r.stdout)
        for age in ("0", "30", "30s", "10m", "2h", "7d", "007s"):
            r = shmclean(root, "-n", "--older-than", age)
            ok(r.returncode == 0 and r.stderr == b"",
               "--older-than %s is one of the documented forms" % age, r.stderr)
        for age in ("", " 5", "5 ", "+5", "-0", "-1", "s", "5x", "5ss", "5S", "1.5h", "0x10",
                    "\u0665"):
            r = shmclean(root, "-n", "--older-than", age)
            err = r.stderr.decode("utf-8", "replace")
            ok(r.returncode == 2 and r.stdout == b"" and one_usage_error(r) and
               "is not a duration" in err,
               "--older-than %r is not: exit 2, one message" % age, (r.returncode, err))
        for age in ("144115188075855873d", "106751991167301d", "153722867280912931m",
                    "2562047788015216h", "9223372036854775808", "99999999999999999999s"):
            r = shmclean(root, "-n", "--older-than", age)
            err = r.stderr.decode("utf-8", "replace")
            ok(r.returncode == 2 and r.stdout == b"" and "too long" in err and
               "106751991167300d" in err,
               "--older-than %s does not fit: exit 2, naming the limit" % age,
               (r.returncode, err, r.stdout))
        for age in ("106751991167300d", str(LONG_MAX)):
            r = shmclean(root, "-n", "--older-than", age, env=two_days_later)
            ok(r.returncode == 0 and b"would remove shm" not in r.stdout and
               b"would keep 1 (1 changed in the last " in r.stdout,
               "--older-than %s, the most there is: accepted, and keeps the orphan" % age,
               (r.returncode, r.stderr, r.stdout))
        ok(os.listdir(root) == [".SHMDold"], "... nothing was removed", os.listdir(root))


def test_bad_root():
    """A missing root and a root that is a file: exit 1, the right reason."""
    with fresh_root() as root:
        missing, regular = root + "/missing", root + "/file"
        open(regular, "w").close()
        r = shmclean(None, "-l", "-d", missing)
        ok(r.returncode == 1 and
           r.stderr == ("shmclean: %s: No such file or directory\n" % missing).encode(),
           "a missing root: exit 1, 'No such file or directory'", r.stderr)
        r = shmclean(None, "-l", "-d", regular)
        ok(r.returncode == 1 and r.stderr == ("shmclean: %s: not a directory\n" % regular).encode(),
           "a root that is a file: exit 1, 'not a directory'", r.stderr)
        if shutil.which("valgrind") is None:
            skip(2, "valgrind is not installed")
            return
        for d, reason in ((missing, b"No such file"), (regular, b"not a directory")):
            r = shmclean(None, "-l", "-d", d, valgrind=True)
            ok(r.returncode == 1 and reason in r.stderr and
               b"==" not in without_valgrind_notes(r.stderr),
               "... under valgrind, no error (%s)" % reason.decode(), r.stderr)


def test_far_mtime():
    """An mtime its owner set far off: no garbage date, no wrapped age."""
    if not os.path.isdir("/dev/shm"):
        skip(3, "no /dev/shm (tmpfs takes any mtime; ext4 clamps it)")
        return
    with fresh_root(where="/dev/shm") as root:
        plant(root, [b"future", b"past"])
        try:
            os.utime(os.path.join(root, ".SHMDfuture"), (1e18, 1e18))
            far = -9.223372036854775e18  # now minus that is past 2^63 - 1
            os.utime(os.path.join(root, ".SHMDpast"), (far, far))
        except OSError as e:
            skip(3, "cannot set such an mtime here: %s" % e)
            return
        if os.lstat(os.path.join(root, ".SHMDpast")).st_mtime > -9e18:
            skip(3, "this file system clamps an mtime")
            return
        r = shmclean(root, "-l", "--json")
        doc = parse_json(r.stdout) or {}
        by = {e["name"]: e for e in doc.get("entries", [])}
        f, p = by.get("/future", {}), by.get("/past", {})
        ok(f.get("mtime") is None and p.get("mtime") is None,
           "--json: an mtime outside the years 0000 to 9999 is null", (f, p))
        ok(all(0 <= e.get("age_seconds", -1) < 120 and e.get("ctime") for e in (f, p)),
           "... the age counts from the last change (ctime), which an mtime set far off "
           "does not move", (f, p))
        r = shmclean(root, "-l")
        ok(re.search(rb" [0-9]+s  /future\n", r.stdout) and re.search(rb" [0-9]+s  /past\n",
                                                                       r.stdout),
           "-l shows that age, in seconds", r.stdout)


def without_valgrind_notes(stderr):
    """stderr without valgrind's own notes (lines "--PID-- ...", such as
    its warning that it does not know openat2, which shmclean then does
    without): its errors are the "==PID==" lines."""
    return b"".join(line for line in stderr.splitlines(True)
                    if not re.match(rb"--\d+-- ", line))


def test_valgrind(seed):
    """shmclean -l --json and -l over the weird names, under valgrind."""
    if shutil.which("valgrind") is None:
        skip(2, "valgrind is not installed")
        return
    with fresh_root() as root:
        plant(root, WEIRD + random_names(seed, 50))
        for args in (["-l", "--json"], ["-l"]):
            r = shmclean(root, *args, valgrind=True)
            ok(r.returncode == 0 and without_valgrind_notes(r.stderr) == b"",
               "valgrind -q --error-exitcode=99 shmclean %s: clean" % " ".join(args),
               r.stderr.decode("utf-8", "replace")[:2000])


def main():
    for path in (CLEAN, FAKE_NOW):
        if not os.path.exists(path):
            skip_all("%s is not built" % path)
    seed = int(os.environ.get("SHMCLEAN_SEED", time.time_ns() % 2**32))
    print("# random names from seed %d (set SHMCLEAN_SEED=%d to repeat)" % (seed, seed))
    test_table(seed)
    test_json(seed)
    test_root_json()
    test_messages()
    test_actions(seed)
    test_comm_table()
    test_comm_json()
    test_bad_options()
    test_contradictions()
    test_empty()
    test_bad_dir()
    test_older_than()
    test_bad_root()
    test_far_mtime()
    test_valgrind(seed)
    return done()


sys.exit(main())
