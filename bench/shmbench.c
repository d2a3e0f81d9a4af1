/*
 * shmbench.c - one benchmark measurement, run by bench/run once natively
 * and once under the shim, round after round.
 *
 *   shmbench open   N        shm_open(O_RDWR) + close of an existing object
 *   shmbench cycle  N        shm_open(O_CREAT|O_EXCL) + close + shm_unlink
 *   shmbench floor  DIR N    open(O_RDWR) + close of a file in DIR
 *   shmbench stat   DIR N    stat of a file in DIR
 *   shmbench contend P MS    P processes opening and closing one name for MS
 *   shmbench data   MB       first touch and rewrite of an MB object via mmap
 *   shmbench hold   NAME     create NAME, keep it open until stdin closes
 *   shmbench spawn  N PROG [ARG]...  start PROG N times, one after the other,
 *                            each waited for (it must exit 0): the start-up
 *                            cost of a program, a preload or the launcher
 *   shmbench illumos-open  DIR N   the same as open and cycle, done the way
 *   shmbench illumos-cycle DIR N   illumos libc does it (a lock file created
 *                                  with O_EXCL and removed around every
 *                                  call), in DIR without the shim: the
 *                                  stand-in the targets are compared with
 *
 * Prints one JSON object on stdout: ns per operation, or for contend the
 * aggregate operations per second, the worst single call, and the worst
 * call that the scheduler did not interrupt, or for data
 * the two bandwidths in MB/s, or for spawn the ns per run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static char name[64];

/* The operation measured: shm_open of the existing object, and close. */
static void open_and_close(void)
{
	int fd = shm_open(name, O_RDWR, 0);

	if (fd < 0)
		die("shm_open");
	close(fd);
}

static void bench_open(long n)
{
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);
	double t;

	if (fd < 0)
		die("shm_open");
	close(fd);
	t = now_ns();
	for (long i = 0; i < n; i++)
		open_and_close();
	t = now_ns() - t;
	shm_unlink(name);
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

static void bench_cycle(long n)
{
	double t = now_ns();

	for (long i = 0; i < n; i++) {
		int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);

		if (fd < 0)
			die("shm_open");
		close(fd);
		if (shm_unlink(name) < 0)
			die("shm_unlink");
	}
	t = now_ns() - t;
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

/* Makes an empty file <dir>/shmbench-<what>.<pid> for a benchmark. */
static void make_file(char *path, size_t size, const char *dir, const char *what)
{
	int fd;

	snprintf(path, size, "%s/shmbench-%s.%d", dir, what, (int)getpid());
	fd = open(path, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		die("open");
	close(fd);
}

static void bench_floor(const char *dir, long n)
{
	char path[4096];
	int fd;
	double t;

	make_file(path, sizeof path, dir, "floor");
	t = now_ns();
	for (long i = 0; i < n; i++) {
		fd = open(path, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0)
			die("open");
		close(fd);
	}
	t = now_ns() - t;
	unlink(path);
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

/* stat of a file in dir, n times: a call the shim does not stand in for. */
static void bench_stat(const char *dir, long n)
{
	char path[4096];
	struct stat st;
	double t;

	make_file(path, sizeof path, dir, "stat");
	t = now_ns();
	for (long i = 0; i < n; i++)
		if (stat(path, &st) < 0)
			die("stat");
	t = now_ns() - t;
	unlink(path);
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

struct contend_result {
	atomic_long ops;
	atomic_long worst_ns;
	atomic_long worst_unpreempted_ns;
	atomic_int ready;
	atomic_int go;
};

static void keep_max(atomic_long *max, long v)
{
	long cur = atomic_load(max);

	while (v > cur && !atomic_compare_exchange_weak(max, &cur, v))
		;
}

static long involuntary_switches(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_SELF, &ru) < 0)
		die("getrusage");
	return ru.ru_nivcsw;
}

/*
 * For ms: as many calls as possible, for the throughput and the worst
 * call. Then for ms more: each call between two looks at the count of
 * involuntary context switches, for the worst call that the scheduler
 * did not interrupt. With more processes than processors, any call may
 * lose the processor for a time slice of several milliseconds, natively
 * too; a wait of the call's own (a lock, a sleep) shows in the second.
 */
static void contend_worker(struct contend_result *r, double ms)
{
	long ops = 0, worst = 0, worst_unpreempted = 0;
	double end, t0;

	atomic_fetch_add(&r->ready, 1);
	while (!atomic_load(&r->go))
		;
	end = now_ns() + ms * 1e6;
	while ((t0 = now_ns()) < end) {
		open_and_close();
		long dt = (long)(now_ns() - t0);
		if (dt > worst)
			worst = dt;
		ops++;
	}
	end += ms * 1e6;
	while (now_ns() < end) {
		long before = involuntary_switches();

		t0 = now_ns();
		open_and_close();
		long dt = (long)(now_ns() - t0);
		if (involuntary_switches() == before && dt > worst_unpreempted)
			worst_unpreempted = dt;
	}
	atomic_fetch_add(&r->ops, ops);
	keep_max(&r->worst_ns, worst);
	keep_max(&r->worst_unpreempted_ns, worst_unpreempted);
}

static void bench_contend(int procs, double ms)
{
	struct contend_result *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
					MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int fd = shm_open(name, O_RDWR | O_CREAT, 0600);

	if (r == MAP_FAILED || fd < 0)
		die("setup");
	close(fd);
	for (int i = 0; i < procs; i++) {
		pid_t pid = fork();

		if (pid < 0)
			die("fork");
		if (pid == 0) {
			contend_worker(r, ms);
			_exit(0);
		}
	}
	while (atomic_load(&r->ready) < procs)
		;
	atomic_store(&r->go, 1);
	for (int i = 0; i < procs; i++)
		wait(NULL);
	shm_unlink(name);
	printf("{\"ops_per_s\": %.0f, \"worst_ns\": %ld, \"worst_unpreempted_ns\": %ld}\n",
	       (double)atomic_load(&r->ops) / (ms / 1e3), atomic_load(&r->worst_ns),
	       atomic_load(&r->worst_unpreempted_ns));
}

static void bench_data(long mb)
{
	size_t size = (size_t)mb << 20;
	int fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	double t1, t2;
	char *m;

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0)
		die("shm_open");
	m = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (m == MAP_FAILED)
		die("mmap");
	t1 = now_ns();
	memset(m, 1, size);
	t1 = now_ns() - t1;
	t2 = now_ns();
	memset(m, 2, size);
	t2 = now_ns() - t2;
	munmap(m, size);
	close(fd);
	shm_unlink(name);
	printf("{\"first_touch_mb_s\": %.0f, \"rewrite_mb_s\": %.0f}\n",
	       (double)mb / (t1 / 1e9), (double)mb / (t2 / 1e9));
}

/* The illumos lock: the lock file exists while it is held. */
static void illumos_lock(const char *lock)
{
	int fd;

	while ((fd = open(lock, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0666)) < 0)
		if (errno != EEXIST)
			die("lock");
	close(fd);
}

static void illumos_paths(const char *dir, char *data, char *lock)
{
	snprintf(data, 4096, "%s/.SHMD%s", dir, name + 1);
	snprintf(lock, 4096, "%s/.SHML%s", dir, name + 1);
}

static void bench_illumos_open(const char *dir, long n)
{
	char data[4096], lock[4096];
	double t;
	int fd;

	illumos_paths(dir, data, lock);
	fd = open(data, O_RDWR | O_CREAT, 0600);
	if (fd < 0)
		die("open");
	close(fd);
	t = now_ns();
	for (long i = 0; i < n; i++) {
		illumos_lock(lock);
		fd = open(data, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		unlink(lock);
		if (fd < 0)
			die("open");
		close(fd);
	}
	t = now_ns() - t;
	unlink(data);
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

static void bench_illumos_cycle(const char *dir, long n)
{
	char data[4096], lock[4096];
	double t;

	illumos_paths(dir, data, lock);
	t = now_ns();
	for (long i = 0; i < n; i++) {
		int fd;

		illumos_lock(lock);
		fd = open(data, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		unlink(lock);
		if (fd < 0)
			die("open");
		close(fd);
		illumos_lock(lock);
		if (unlink(data) < 0)
			die("unlink");
		unlink(lock);
	}
	t = now_ns() - t;
	printf("{\"ns_per_op\": %.1f}\n", t / (double)n);
}

static void hold(const char *object)
{
	int fd = shm_open(object, O_RDWR | O_CREAT, 0600);
	char c;

	if (fd < 0)
		die("shm_open");
	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
}

/*
 * Starts argv[0] n times with posix_spawn (no copy of this process's
 * memory: the cost measured is the program's exec and start-up) and the
 * environment as given.
 */
static void bench_spawn(long n, char **argv)
{
	extern char **environ;
	double t = now_ns();

	for (long i = 0; i < n; i++) {
		pid_t pid;
		int status, err = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);

		if (err != 0) {
			errno = err;
			die(argv[0]);
		}
		if (waitpid(pid, &status, 0) < 0)
			die("waitpid");
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "shmbench: %s failed (status %#x)\n", argv[0], status);
			exit(1);
		}
	}
	t = now_ns() - t;
	printf("{\"ns_per_run\": %.1f}\n", t / (double)n);
}

int main(int argc, char **argv)
{
	snprintf(name, sizeof name, "/shmbench.%d", (int)getpid());
	if (argc == 3 && strcmp(argv[1], "open") == 0)
		bench_open(atol(argv[2]));
	else if (argc == 3 && strcmp(argv[1], "cycle") == 0)
		bench_cycle(atol(argv[2]));
	else if (argc == 4 && strcmp(argv[1], "floor") == 0)
		bench_floor(argv[2], atol(argv[3]));
	else if (argc == 4 && strcmp(argv[1], "stat") == 0)
		bench_stat(argv[2], atol(argv[3]));
	else if (argc == 4 && strcmp(argv[1], "contend") == 0)
		bench_contend(atoi(argv[2]), atof(argv[3]));
	else if (argc == 3 && strcmp(argv[1], "data") == 0)
		bench_data(atol(argv[2]));
	else if (argc == 3 && strcmp(argv[1], "hold") == 0)
		hold(argv[2]);
	else if (argc == 4 && strcmp(argv[1], "illumos-open") == 0)
		bench_illumos_open(argv[2], atol(argv[3]));
	else if (argc == 4 && strcmp(argv[1], "illumos-cycle") == 0)
		bench_illumos_cycle(argv[2], atol(argv[3]));
	else if (argc >= 4 && strcmp(argv[1], "spawn") == 0)
		bench_spawn(atol(argv[2]), argv + 3);
	else {
		fprintf(stderr, "usage: see the comment at the top of bench/shmbench.c\n");
		return 2;
	}
	return 0;
}
