#!/usr/bin/python3
"""stallfs MOUNTPOINT FLAG LOG - a FUSE file system that can stop answering.

A minimal server speaking the kernel's FUSE protocol on /dev/fuse itself
(no libfuse, no package), for tests/shmclean-fuse.t. It serves a fixed tree
whose names look like shmshim's:

    .SHMDinner                      a file (a flat object's name)
    plain                           a file
    .00000000000000000000000000000000/.SHMD/x   a file (the hashed layout)

Attributes are never cached (attr_valid 0), so every stat(2) of these files
asks the server. Once the file FLAG exists, the server answers nothing any
more, as a hung or malicious server would: every request waits until the
connection ends (this process is killed, which aborts it). Each request it
leaves unanswered is written to LOG with the asking PID and command.

Needs root (mount(2)). Prints "ready" once mounted."""
import ctypes
import errno
import os
import struct
import sys

IN_HEADER = struct.Struct("<IIQQIIIHH")   # struct fuse_in_header, 40 bytes
OUT_HEADER = struct.Struct("<IiQ")        # struct fuse_out_header, 16 bytes
ATTR = struct.Struct("<QQQQQQIIIIIIIIII")  # struct fuse_attr, 88 bytes

LOOKUP, FORGET, GETATTR, OPEN, STATFS, RELEASE = 1, 2, 3, 14, 17, 18
FLUSH, INIT, OPENDIR, READDIR, RELEASEDIR, ACCESS = 25, 26, 27, 28, 29, 34
INTERRUPT, DESTROY, BATCH_FORGET = 36, 38, 42
NAMES = {1: "LOOKUP", 3: "GETATTR", 14: "OPEN", 17: "STATFS", 22: "GETXATTR",
         27: "OPENDIR", 28: "READDIR", 34: "ACCESS", 52: "STATX"}

HASH_DIR = b"." + b"0" * 32
# nodeid: (mode, {name: child nodeid}); 1 is the root.
TREE = {
    1: (0o040755, {b".SHMDinner": 2, b"plain": 3, HASH_DIR: 4}),
    2: (0o100644, {}),
    3: (0o100644, {}),
    4: (0o040755, {b".SHMD": 5}),
    5: (0o040755, {b"x": 6}),
    6: (0o100644, {}),
}


def attr(node):
    mode = TREE[node][0]
    nlink = 2 if mode & 0o040000 else 1
    return ATTR.pack(node, 0, 0, 0, 0, 0, 0, 0, 0, mode, nlink, 0, 0, 0, 4096, 0)


def answer(op, node, body):
    """The reply to one request: (error, payload), or None for none."""
    if op in (FORGET, BATCH_FORGET, INTERRUPT):
        return None
    if op == INIT:
        major, minor = struct.unpack_from("<II", body)
        # struct fuse_init_out: major, minor, max_readahead, flags,
        # max_background, congestion_threshold, max_write, time_gran,
        # max_pages, map_alignment, flags2, then reserved words.
        return 0, struct.pack("<IIIIHHIIHHII24x", 7, min(minor, 31), 0, 0,
                              16, 12, 65536, 1, 0, 0, 0, 0)
    if node not in TREE:
        return -errno.ENOENT, b""
    if op == LOOKUP:
        child = TREE[node][1].get(body.split(b"\0", 1)[0])
        if child is None:
            return -errno.ENOENT, b""
        # struct fuse_entry_out: nodeid, generation, entry_valid,
        # attr_valid (0: attributes are asked for every time), their
        # nanoseconds, then the attributes.
        return 0, struct.pack("<QQQQII", child, 0, 60, 0, 0, 0) + attr(child)
    if op == GETATTR:
        return 0, struct.pack("<QII", 0, 0, 0) + attr(node)
    if op in (OPEN, OPENDIR):
        return 0, struct.pack("<QIi", 0, 0, 0)
    if op == STATFS:
        return 0, bytes(80)
    if op in (READDIR, RELEASE, RELEASEDIR, FLUSH, ACCESS, DESTROY):
        return 0, b""
    return -errno.ENOSYS, b""


def mount(mountpoint):
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/dev/fuse", os.O_RDWR | os.O_CLOEXEC)
    opts = "fd=%d,rootmode=40000,user_id=0,group_id=0,allow_other" % fd
    ms_nosuid, ms_nodev = 2, 4
    if libc.mount(b"stallfs", os.fsencode(mountpoint), b"fuse", ms_nosuid | ms_nodev,
                  opts.encode()) != 0:
        e = ctypes.get_errno()
        raise OSError(e, "mount %s: %s" % (mountpoint, os.strerror(e)))
    return fd


def command(pid):
    try:
        with open("/proc/%d/comm" % pid) as f:
            return f.read().strip()
    except OSError:
        return "?"


def serve(fd, flag, log):
    while True:
        try:
            request = os.read(fd, 1 << 17)
        except OSError as e:
            if e.errno in (errno.EINTR, errno.ENOENT):  # ENOENT: interrupted
                continue
            return  # ENODEV: unmounted
        _, op, unique, node, _, _, pid, _, _ = IN_HEADER.unpack_from(request)
        if os.path.exists(flag):
            log.write("no answer to %s (%d) from pid %d (%s)\n"
                      % (NAMES.get(op, "op"), op, pid, command(pid)))
            log.flush()
            continue
        reply = answer(op, node, request[IN_HEADER.size:])
        if reply is None:
            continue
        error, payload = reply
        try:
            os.write(fd, OUT_HEADER.pack(OUT_HEADER.size + len(payload), error, unique) + payload)
        except OSError as e:
            if e.errno != errno.ENOENT:  # ENOENT: the asker gave up
                raise
        if op == DESTROY:
            return


def main():
    mountpoint, flag, log_path = sys.argv[1:4]
    fd = mount(mountpoint)
    with open(log_path, "a") as log:
        print("ready", flush=True)
        serve(fd, flag, log)
    return 0


if __name__ == "__main__":
    sys.exit(main())
