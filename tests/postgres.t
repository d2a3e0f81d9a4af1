#!/usr/bin/python3
"""PostgreSQL 15 under the shim, with dynamic_shared_memory_type=posix.

A private server (initdb in a temporary directory, Unix socket only, run as
the postgres user) runs parallel queries and a short pgbench of a
parallel-capable query; its dynamic shared memory segments must show up as
<root>/.SHMDPostgreSQL.* while it runs and be gone after a clean stop. Then
the same server starts in a private mount namespace whose /dev/shm is an
empty read-only directory: without the shim it cannot start, with it the
parallel queries work."""
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time


sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from taplib import BUILD, ok, skip, skip_all, done, public_copies, pg_bindir, PG_PARALLEL, as_user  # noqa: E402

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIB = os.path.join(BUILD, "libshmshim.so")


BIN = pg_bindir()
PARALLEL = PG_PARALLEL


def as_postgres():
    as_user("postgres")()


class Server:
    def __init__(self, work, root):
        self.work, self.root = work, root
        self.data = os.path.join(work, "data")
        self.sock = os.path.join(work, "sock")
        self.log = os.path.join(work, "sock", "server.log")

    def env(self, shim):
        env = dict(os.environ, PGHOST=self.sock, PGUSER="postgres", PGDATABASE="postgres")
        env.pop("LD_PRELOAD", None)
        if shim:
            env.update(LD_PRELOAD=LIB, SHMSHIM_DIR=self.root)
        return env

    def initdb(self):
        return subprocess.run([BIN + "/initdb", "-D", self.data, "-A", "trust", "-U", "postgres"],
                              env=self.env(True), preexec_fn=as_postgres,
                              capture_output=True, text=True, timeout=300)

    def start(self, shim=True, namespace_setup=None):
        opts = ("-c dynamic_shared_memory_type=posix -c listen_addresses='' "
                "-c unix_socket_directories=%s -c max_worker_processes=8 "
                "-c max_parallel_workers=4" % self.sock)
        cmd = [BIN + "/pg_ctl", "-D", self.data, "-l", self.log, "-o", opts, "-w", "-t", "60",
               "start"]
        if namespace_setup:
            # pg_ctl's postmaster stays in the namespace after pg_ctl exits.
            cmd = ["unshare", "-m", "--propagation", "private", "sh", "-c",
                   namespace_setup + ' && exec setpriv --reuid=postgres --regid=postgres '
                   '--clear-groups "$0" "$@"'] + cmd
            return subprocess.run(cmd, env=self.env(shim), capture_output=True, text=True,
                                  timeout=120)
        return subprocess.run(cmd, env=self.env(shim), preexec_fn=as_postgres,
                              capture_output=True, text=True, timeout=120)

    def stop(self):
        return subprocess.run([BIN + "/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"],
                              env=self.env(False), preexec_fn=as_postgres,
                              capture_output=True, text=True, timeout=120)

    def kill_if_running(self):
        """Ends the postmaster this test started, by its PID, if it still runs."""
        try:
            pid = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        except (OSError, ValueError):
            return
        try:
            os.kill(pid, signal.SIGQUIT)
        except ProcessLookupError:
            return
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)

    def psql(self, sql):
        return subprocess.run([BIN + "/psql", "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1",
                               "-c", sql], env=self.env(False), capture_output=True, text=True,
                              timeout=120)

    def segments(self):
        return [f for f in os.listdir(self.root) if f.startswith(".SHMDPostgreSQL.")]


def parallel_queries(srv, label):
    r = srv.psql("CREATE TABLE IF NOT EXISTS t AS SELECT g AS x FROM generate_series(1, 200000) g;"
                 " ANALYZE t;")
    ok(r.returncode == 0, "%s: create a 200000-row table" % label, r.stderr)
    r = srv.psql(PARALLEL + "SELECT count(*), sum(x) FROM t;")
    ok(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["200000|20000100000"],
       "%s: a parallel count and sum give 200000 and 20000100000" % label, r.stdout + r.stderr)
    r = srv.psql(PARALLEL + "EXPLAIN (ANALYZE, COSTS OFF) SELECT count(*) FROM t WHERE x % 3 = 0;")
    launched = [int(n) for n in re.findall(r"Workers Launched: (\d+)", r.stdout)]
    ok(r.returncode == 0 and launched and max(launched) >= 1,
       "%s: EXPLAIN ANALYZE shows parallel workers launched (%s)" % (label, launched),
       r.stdout + r.stderr)
    r = srv.psql(PARALLEL + "SELECT count(*) FROM t a JOIN t b USING (x) WHERE a.x % 1000 = 0;")
    ok(r.returncode == 0 and r.stdout.strip().splitlines()[-1:] == ["200"],
       "%s: a parallel hash join gives 200" % label, r.stdout + r.stderr)


def main():
    if os.getuid() != 0:
        print("1..0 # SKIP needs root to run PostgreSQL as the postgres user")
        return 0
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        print("1..0 # SKIP there is no postgres user")
        return 0
    if not os.path.exists(BIN + "/postgres"):
        print("1..0 # SKIP PostgreSQL is not installed (no pg_config --bindir, no "
              "postgres on PATH; Debian: postgresql postgresql-client)")
        return 0
    global LIB
    LIB, = public_copies(LIB)  # the postgres user must be able to load it
    work = tempfile.mkdtemp(prefix="shmshim-pg.")
    os.chmod(work, 0o755)
    root = os.path.join(work, "root")
    os.mkdir(root, 0o1777)
    os.chmod(root, 0o1777)
    os.mkdir(os.path.join(work, "sock"), 0o755)
    empty = os.path.join(work, "empty")
    os.mkdir(empty)
    shutil.chown(os.path.join(work, "sock"), "postgres", "postgres")
    os.mkdir(os.path.join(work, "data"), 0o700)
    shutil.chown(os.path.join(work, "data"), "postgres", "postgres")
    srv = Server(work, root)
    try:
        r = srv.initdb()
        ok(r.returncode == 0, "initdb as postgres under the shim", r.stdout + r.stderr)
        r = srv.start()
        ok(r.returncode == 0, "the server starts under the shim with dynamic_shared_memory_type=posix",
           r.stderr + (open(srv.log).read()[-2000:] if os.path.exists(srv.log) else ""))
        ok(len(srv.segments()) >= 1,
           "its control segment is <root>/.SHMDPostgreSQL.* (%s)" % srv.segments())
        parallel_queries(srv, "shim")

        script = os.path.join(work, "bench.sql")
        with open(script, "w") as f:
            f.write("SELECT count(*) FROM t WHERE x %% %d = 0;\n" % 7)
        env = srv.env(False)
        env["PGOPTIONS"] = ("-c force_parallel_mode=on -c parallel_setup_cost=0 "
                            "-c parallel_tuple_cost=0 -c min_parallel_table_scan_size=0")
        seen = set()
        bench = subprocess.Popen([BIN + "/pgbench", "-n", "-f", script, "-T", "5", "-c", "2"],
                                 env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        while bench.poll() is None:
            seen.update(srv.segments())
            time.sleep(0.01)
        out, err = bench.communicate()
        processed = re.search(r"number of transactions actually processed: (\d+)", out)
        failures = re.search(r"number of failed transactions: (\d+)", out)
        ok(bench.returncode == 0 and processed and int(processed.group(1)) > 0 and
           (failures is None or failures.group(1) == "0"),
           "pgbench of a parallel query for 5 s: %s transactions, none failed"
           % (processed.group(1) if processed else "no"), out + err)
        ok(len(seen) >= 2,
           "parallel queries made dynamic segments in the root while pgbench ran (%d seen)" % len(seen))
        r = srv.stop()
        ok(r.returncode == 0, "a clean stop", r.stderr)
        ok(os.listdir(root) == [], "after it, no segment or lock is left in the root",
           os.listdir(root))

        readonly = "mount --bind %s /dev/shm && mount -o remount,bind,ro /dev/shm" % empty
        r = srv.start(shim=False, namespace_setup=readonly)
        log = open(srv.log).read() if os.path.exists(srv.log) else ""
        ok(r.returncode != 0 and "shared memory" in log[-3000:],
           "without the shim, the server cannot start when /dev/shm is read-only", log[-1500:])
        srv.kill_if_running()
        r = srv.start(shim=True, namespace_setup=readonly)
        ok(r.returncode == 0, "with the shim, it starts there", r.stderr)
        parallel_queries(srv, "no /dev/shm")
        r = srv.stop()
        ok(r.returncode == 0 and os.listdir(root) == [],
           "it stops cleanly, leaving the root empty", os.listdir(root))
    finally:
        srv.kill_if_running()
        shutil.rmtree(work, ignore_errors=True)
    return done()


sys.exit(main())
