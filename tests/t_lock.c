/*
 * t_lock.c - the locks' invariants (DESIGN.md I1-I4). shm_unlink takes the
 * object's own lock (flock on its data file): a holder killed at any point
 * delays nobody by more than a second, contended calls wait in small
 * steps, a lock that cannot be had in SHMSHIM_LOCK_TIMEOUT_MS gives
 * EAGAIN. shm_open takes no lock, but waits for shmclean's lease and never
 * returns the file shmclean removed meanwhile. Creating a semaphore takes
 * the name's lock file, which no call leaves behind.
 */
#define _GNU_SOURCE
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "holder.h"
#include "tap.h"

/* In a child, a call that waits: reports the time it returned. */
struct waited {
	pid_t pid;
	int pipefd;
};

static struct waited start_unlink(const char *name)
{
	struct waited w;
	int pipefd[2];

	if (pipe(pipefd) < 0)
		bail("pipe");
	fflush(stdout);
	w.pid = fork();
	if (w.pid == 0) {
		int r = shm_unlink(name);
		double t = now_seconds();

		if (write(pipefd[1], &t, sizeof t) != sizeof t)
			_exit(2);
		_exit(r == 0 ? 0 : 1);
	}
	close(pipefd[1]);
	w.pipefd = pipefd[0];
	return w;
}

/* Waits for the child; true if its call worked. *t: when it returned. */
static bool finish(struct waited w, double *t)
{
	bool got = read(w.pipefd, t, sizeof *t) == sizeof *t;

	close(w.pipefd);
	return wait_status(w.pid) == 0 && got;
}

/* A shm_unlink that waited on a holder SIGKILLed meanwhile. */
static void test_killed_holder(void)
{
	pid_t holder = start_holder("kill", -1);
	struct waited w = start_unlink("/kill");
	double done = 0, killed;

	sleep_ms(300);
	ok(waitpid(w.pid, NULL, WNOHANG) == 0,
	   "shm_unlink of an object whose lock is held waits");
	killed = now_seconds();
	kill_holder(holder);
	ok(finish(w, &done), "it succeeds once the holder is SIGKILLed");
	if (!timed_ok(done - killed < 1.0, "... within a second of the kill"))
		diag("it took %.3f s", done - killed);
	root_is_empty("(the object is gone, and no lock file is left)");
}

/* Opening takes no lock: a held object lock does not delay it. */
static void test_open_does_not_wait(void)
{
	pid_t holder = start_holder("free", -1);
	int fd = shm_open("/free", O_RDWR, 0);
	int fd2 = shm_open("/free", O_RDWR | O_CREAT, 0600);

	/* Not timed: the holder never lets go, so a call that waited would fail. */
	ok(fd >= 0 && fd2 >= 0, "shm_open of an object whose lock is held works");
	ok(waitpid(holder, NULL, WNOHANG) == 0, "... while the holder still holds it");
	close(fd);
	close(fd2);
	kill_holder(holder);
	ok(shm_unlink("/free") == 0, "unlink it");
}

/* A process killed at random points inside real calls. */
static void test_killed_in_calls(void)
{
	int rounds = quick() ? 10 : 60, slow = 0, failed = 0;
	static const char *names[] = {
		"/churn",
		"/churn-long-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
		"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};

	srand(42);
	for (int i = 0; i < rounds; i++) {
		const char *name = names[i % 2];
		pid_t pid;
		double t;
		int fd;

		fflush(stdout);
		pid = fork();
		if (pid == 0)
			for (;;) {
				fd = shm_open(name, O_RDWR | O_CREAT, 0600);
				if (fd >= 0)
					close(fd);
				shm_unlink(name);
				sem_t *s = sem_open(name, O_CREAT, 0600, 0);
				if (s != SEM_FAILED)
					sem_close(s);
				sem_unlink(name);
			}
		sleep_ms(rand() % 4);
		kill(pid, SIGKILL);
		wait_status(pid);

		t = now_seconds();
		fd = shm_open(name, O_RDWR | O_CREAT, 0600);
		sem_t *s = sem_open(name, O_CREAT, 0600, 0);
		bool unlinked = shm_unlink(name) == 0 && sem_unlink(name) == 0;
		if (now_seconds() - t >= 1.0)
			slow++;
		if (fd < 0 || close(fd) < 0 || s == SEM_FAILED || sem_close(s) < 0 || !unlinked)
			failed++;
	}
	timed_ok(slow == 0, "after killing a process inside calls %d times, no call waited a second "
		 "(%d did)", rounds, slow);
	ok(failed == 0, "... and every open and unlink after it worked (%d failed)", failed);
	/* A semaphore's temporary file may be left by the kill; sem_open removes it. */
	root_is_empty("(nothing stranded by the killed processes)");
}

static void test_short_wait(void)
{
	pid_t holder = start_holder("short", 50);
	double t = now_seconds();
	int r = shm_unlink("/short");

	t = now_seconds() - t;
	ok(r == 0, "shm_unlink waits out a holder that keeps the lock 50 ms");
	if (!timed_ok(t < 0.5, "... and returns soon after, not a whole second later"))
		diag("it took %.3f s", t);
	wait_status(holder);
}

static void test_long_wait(void)
{
	pid_t holder = start_holder("long", 1500);
	double t = now_seconds();
	int r = shm_unlink("/long");

	t = now_seconds() - t;
	ok(r == 0 && t >= 1.3, "with the default time-out, shm_unlink waits for a holder of 1.5 s");
	if (!timed_ok(t < 3.0, "... and finishes soon after it lets go"))
		diag("it took %.3f s", t);
	wait_status(holder);
	root_is_empty("after the waits");
}

/*
 * Creating a semaphore under a temporary name waits for the name's lock
 * file, not longer; created as a nameless file, it needs no lock at all.
 */
static void test_lock_file(void)
{
	pid_t holder = start_holder_how(HOLD_LOCK_FILE, "semlock", -1);
	char lock[PATH_MAX];
	pid_t pid;
	double t;

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		sem_t *s = sem_open("/semlock", O_CREAT | O_EXCL, 0600, 3);
		_exit(s == SEM_FAILED);
	}
	if (sem_create_locks()) {
		sleep_ms(300);
		ok(waitpid(pid, NULL, WNOHANG) == 0,
		   "without /proc: creating a semaphore whose lock file is held waits");
		t = now_seconds();
		kill_holder(holder);
		ok(wait_status(pid) == 0, "it succeeds once the holder is SIGKILLed");
		if (!timed_ok(now_seconds() - t < 1.0, "... within a second"))
			diag("it took %.3f s", now_seconds() - t);
	} else {
		ok(wait_status(pid) == 0,
		   "with /proc: creating a semaphore does not wait for the name's lock file");
		ok(waitpid(holder, NULL, WNOHANG) == 0, "... which was held all along");
		kill_holder(holder);
		ok(exists(in_root(lock, sizeof lock, ".SEMLsemlock")),
		   "... and whose lock file, left by the SIGKILLed holder, stays (shmclean's job)");
		unlink(lock);
	}
	sem_t *s = sem_open("/semlock", 0);
	int v = -1;
	ok(s != SEM_FAILED && sem_getvalue(s, &v) == 0 && v == 3, "... and the semaphore is whole");
	if (s != SEM_FAILED)
		sem_close(s);
	ok(sem_unlink("/semlock") == 0, "unlink it");
	root_is_empty("(the dead holder's lock file is gone too)");
}

/*
 * Without /proc, a semaphore is made under the name's lock file. A holds
 * it; B waits; A removes the file and lets go. B then holds a lock on a
 * file that is no longer linked, and must start again: otherwise C,
 * arriving now, makes a new lock file, and both are inside at once. B is
 * slowed down inside (strace delays its writes by a second) so that C
 * surely arrives while B is there: C must wait for B and open its
 * semaphore (value 1); were both inside, C would make its own (value 5).
 */
/* Whether the file at path contains text. */
static bool file_has(const char *path, const char *text)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, text) != NULL;
}

static void test_unlinked_lock_file(void)
{
	char temp[PATH_MAX], trace[PATH_MAX];
	pid_t a, b;
	int v = -1;

	if (!sem_create_locks()) {
		skip(4, "semaphores take the lock file only without /proc (lock-noproc.t)");
		return;
	}
	if (!have_program("strace")) {
		skip(4, "strace is not installed");
		return;
	}
	a = start_holder_how(HOLD_LOCK_FILE_UNLINK, "twice", -1);
	snprintf(trace, sizeof trace, "%s.trace", test_root());
	fflush(stdout);
	b = fork();
	if (b == 0) {
		exec_self_traced((char *[]){"-f", "-qq", "-o", trace, "-e", "trace=flock,write",
					    "-e", "inject=write:delay_enter=1000000", NULL},
			      (char *[]){(char *)self_path, "semcreate", "/twice", NULL});
		_exit(127);
	}
	/* B is waiting once strace shows a flock refused. */
	for (int i = 0; i < 1000 && !file_has(trace, "EAGAIN"); i++)
		sleep_ms(10);
	ok(file_has(trace, "EAGAIN"), "B waits for the lock file A holds");
	kill(a, SIGUSR1); /* A removes it and lets go */
	in_root(temp, sizeof temp, ".SEMTtwice");
	for (int i = 0; i < 500 && !exists(temp); i++)
		sleep_ms(10);
	ok(exists(temp), "B, which waited for A's lock file, is inside (its temporary file is there)");
	sem_t *s = sem_open("/twice", O_CREAT, 0600, 5);
	if (s != SEM_FAILED)
		sem_getvalue(s, &v);
	ok(v == 1, "C, arriving now, waits for B and opens B's semaphore (value %d, want 1)", v);
	if (s != SEM_FAILED)
		sem_close(s);
	ok(wait_status(b) == 0 && wait_status(a) == 0 && sem_unlink("/twice") == 0,
	   "... B made it, and it unlinks");
	unlink(trace);
}

/* shmclean's lease: opens wait for it, and never get a removed file. */
static void test_lease(void)
{
	struct stat before, after;
	int fd = shm_open("/leased", O_RDWR | O_CREAT | O_EXCL, 0600);
	pid_t holder;
	double t;

	ok(fd >= 0 && fstat(fd, &before) == 0 && close(fd) == 0, "create /leased");
	holder = start_holder_how(HOLD_LEASE, "leased", 200);
	t = now_seconds();
	fd = shm_open("/leased", O_RDWR, 0);
	t = now_seconds() - t;
	ok(fd >= 0 && t >= 0.1, "shm_open of an object under a write lease waits for it");
	if (!timed_ok(t < 1.0, "... until the lease is given back (200 ms), not longer"))
		diag("it took %.3f s", t);
	ok(fd >= 0 && (fcntl(fd, F_GETFL) & O_NONBLOCK) == 0,
	   "... and its descriptor is not left non-blocking");
	close(fd);
	wait_status(holder);

	holder = start_holder_how(HOLD_LEASE_UNLINK, "leased", 200);
	fails_with(shm_open("/leased", O_RDWR, 0), ENOENT,
		   "an object removed while its lease was held: shm_open then gives ENOENT");
	wait_status(holder);

	/* The file removed is 4 bytes long; a new one is empty. */
	fd = shm_open("/leased", O_RDWR | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "old!", 4) == 4 && close(fd) == 0, "create /leased again, with data");
	holder = start_holder_how(HOLD_LEASE_UNLINK, "leased", 200);
	fd = shm_open("/leased", O_RDWR | O_CREAT, 0600);
	if (!ok(fd >= 0 && fstat(fd, &after) == 0 && after.st_size == 0 && after.st_nlink == 1,
		"... and shm_open(O_CREAT) makes a new one, never the removed file"))
		diag("fd %d, size %lld, links %lu", fd, (long long)after.st_size,
		     (unsigned long)after.st_nlink);
	close(fd);
	wait_status(holder);
	ok(shm_unlink("/leased") == 0, "unlink it");
}

/* Run as "t_lock timeout" with SHMSHIM_LOCK_TIMEOUT_MS=300. */
static int timeout_case(void)
{
	pid_t holder = start_holder("held", -1);
	double t = now_seconds();

	fails_with(shm_unlink("/held"), EAGAIN,
		   "a lock held past SHMSHIM_LOCK_TIMEOUT_MS=300 gives EAGAIN");
	t = now_seconds() - t;
	if (!ok(t >= 0.29, "... after waiting 300 ms"))
		diag("it took %.3f s", t);
	if (!timed_ok(t < 2.0, "... and not much longer"))
		diag("it took %.3f s", t);
	kill_holder(holder);
	ok(shm_unlink("/held") == 0, "once the holder is gone, shm_unlink works");

	if (sem_create_locks()) {
		holder = start_holder_how(HOLD_LOCK_FILE, "held", -1);
		fails_with((long)(sem_open("/held", O_CREAT, 0600, 0) == SEM_FAILED ? -1 : 0),
			   EAGAIN, "a held lock file: creating a semaphore gives EAGAIN too");
		kill_holder(holder);
		sem_t *s = sem_open("/held", O_CREAT, 0600, 0);
		ok(s != SEM_FAILED && sem_close(s) == 0 && sem_unlink("/held") == 0,
		   "once its holder is gone, it works, and removes the lock file left behind");
	} else {
		skip(2, "semaphores are created without the lock file where /proc is mounted");
	}

	int fd = shm_open("/held", O_RDWR | O_CREAT, 0600);
	close(fd);
	holder = start_holder_how(HOLD_LEASE, "held", -1);
	fails_with(shm_open("/held", O_RDWR, 0), EAGAIN,
		   "a lease held past the time-out: shm_open gives EAGAIN");
	kill_holder(holder);
	ok(shm_unlink("/held") == 0, "unlink it");
	return tap_failures;
}

/* Run as "t_lock no-wait" with SHMSHIM_LOCK_TIMEOUT_MS=0. */
static int no_wait_case(void)
{
	pid_t holder = start_holder("held0", -1);

	/* Not timed (a loaded machine is slow): the holder never lets go. */
	fails_with(shm_unlink("/held0"), EAGAIN,
		   "SHMSHIM_LOCK_TIMEOUT_MS=0: a held lock gives EAGAIN, without waiting for it");
	ok(waitpid(holder, NULL, WNOHANG) == 0, "... while its holder still holds it");
	kill_holder(holder);
	ok(shm_unlink("/held0") == 0, "... and a free one is taken");
	return tap_failures;
}

/*
 * Run as "t_lock huge" with SHMSHIM_LOCK_TIMEOUT_MS=9223372036854775807:
 * the time-out is capped, so the deadline cannot overflow (UBSan would
 * stop the -san variant) and a wait still ends when the holder lets go.
 */
static int huge_timeout_case(void)
{
	pid_t holder = start_holder("huge", 100);

	ok(shm_unlink("/huge") == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=LONG_MAX: shm_unlink waits out a 100 ms holder and works");
	wait_status(holder);
	return tap_failures;
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_nested = argc > 1;
	if (argc > 1 && strcmp(argv[1], "timeout") == 0)
		return timeout_case();
	if (argc > 1 && strcmp(argv[1], "no-wait") == 0)
		return no_wait_case();
	if (argc > 1 && strcmp(argv[1], "huge") == 0)
		return huge_timeout_case();
	if (argc > 2 && strcmp(argv[1], "semcreate") == 0) {
		sem_t *s = sem_open(argv[2], O_CREAT, 0600, 1);

		return s != SEM_FAILED && sem_close(s) == 0 ? 0 : 1;
	}

	test_killed_holder();
	test_open_does_not_wait();
	test_killed_in_calls();
	test_short_wait();
	test_long_wait();
	test_lock_file();
	test_unlinked_lock_file();
	test_lease();
	ok(run_self("timeout", "SHMSHIM_LOCK_TIMEOUT_MS", "300", NULL) == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=300 (see the sub-run above)");
	ok(run_self("no-wait", "SHMSHIM_LOCK_TIMEOUT_MS", "0", NULL) == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=0 (see the sub-run above)");
	ok(run_self("huge", "SHMSHIM_LOCK_TIMEOUT_MS", "9223372036854775807", NULL) == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=9223372036854775807 (see the sub-run above)");
	root_is_empty("at the end");
	return done_testing();
}
