/*
 * t_lock.c - the lock's invariants (DESIGN.md I2-I4): a holder killed at
 * any point delays nobody by more than a second, contended calls wait in
 * small steps, a lock that cannot be had in SHMSHIM_LOCK_TIMEOUT_MS gives
 * EAGAIN, and no lock file outlives its object.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "holder.h"
#include "tap.h"

/* A call that waited on a holder SIGKILLed meanwhile. */
static void test_killed_holder(void)
{
	pid_t holder = start_holder("kill", -1);
	int pipefd[2];
	double done = 0, killed;
	pid_t waiter;

	if (pipe(pipefd) < 0)
		bail("pipe");
	fflush(stdout);
	waiter = fork();
	if (waiter == 0) {
		int fd = shm_open("/kill", O_RDWR | O_CREAT, 0600);
		double t = now_seconds();

		if (write(pipefd[1], &t, sizeof t) != sizeof t)
			_exit(2);
		_exit(fd >= 0 ? 0 : 1);
	}
	close(pipefd[1]);
	sleep_ms(300);
	ok(waitpid(waiter, NULL, WNOHANG) == 0,
	   "a call on a name whose lock is held waits");
	killed = now_seconds();
	kill_holder(holder);
	bool got = read(pipefd[0], &done, sizeof done) == sizeof done;
	close(pipefd[0]);
	ok(wait_status(waiter) == 0 && got, "it succeeds once the holder is SIGKILLed");
	if (!ok(done - killed < 1.0, "... within a second of the kill"))
		diag("it took %.3f s", done - killed);
	ok(shm_unlink("/kill") == 0, "unlink the object it made");
	root_is_empty("(the dead holder's lock file is gone too)");
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
			}
		sleep_ms(rand() % 4);
		kill(pid, SIGKILL);
		wait_status(pid);

		t = now_seconds();
		fd = shm_open(name, O_RDWR | O_CREAT, 0600);
		if (now_seconds() - t >= 1.0)
			slow++;
		if (fd < 0 || close(fd) < 0 || shm_unlink(name) < 0)
			failed++;
	}
	ok(slow == 0, "after killing a process inside calls %d times, no call waited a second (%d did)",
	   rounds, slow);
	ok(failed == 0, "... and every open and unlink after it worked (%d failed)", failed);
	root_is_empty("(nothing stranded by the killed processes)");
}

static void test_short_wait(void)
{
	pid_t holder = start_holder("short", 50);
	double t = now_seconds();
	int fd = shm_open("/short", O_RDWR | O_CREAT, 0600);

	t = now_seconds() - t;
	ok(fd >= 0, "a call waits out a holder that keeps the lock 50 ms");
	if (!ok(t < 0.5, "... and returns soon after, not a whole second later"))
		diag("it took %.3f s", t);
	wait_status(holder);
	close(fd);
	shm_unlink("/short");
}

static void test_long_wait(void)
{
	pid_t holder = start_holder("long", 1500);
	double t = now_seconds();
	int fd = shm_open("/long", O_RDWR | O_CREAT, 0600);

	t = now_seconds() - t;
	ok(fd >= 0 && t >= 1.3,
	   "with the default time-out, a call waits for a holder of 1.5 s");
	if (!ok(t < 3.0, "... and finishes soon after it lets go"))
		diag("it took %.3f s", t);
	wait_status(holder);
	close(fd);
	shm_unlink("/long");
	root_is_empty("after the waits");
}

/* Run as "t_lock timeout" with SHMSHIM_LOCK_TIMEOUT_MS=300. */
static int timeout_case(void)
{
	pid_t holder = start_holder("held", -1);
	double t = now_seconds();

	fails_with(shm_open("/held", O_RDWR | O_CREAT, 0600), EAGAIN,
		   "a lock held past SHMSHIM_LOCK_TIMEOUT_MS=300 gives EAGAIN");
	t = now_seconds() - t;
	if (!ok(t >= 0.29 && t < 2.0, "... after about 300 ms"))
		diag("it took %.3f s", t);
	fails_with(shm_unlink("/held"), EAGAIN, "shm_unlink gives EAGAIN too");
	kill_holder(holder);
	int fd = shm_open("/held", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0, "once the holder is gone, the call works");
	close(fd);
	ok(shm_unlink("/held") == 0, "unlink it");
	return tap_failures;
}

/* Run as "t_lock no-wait" with SHMSHIM_LOCK_TIMEOUT_MS=0. */
static int no_wait_case(void)
{
	pid_t holder = start_holder("held0", -1);

	fails_with(shm_open("/held0", O_RDWR | O_CREAT, 0600), EAGAIN,
		   "SHMSHIM_LOCK_TIMEOUT_MS=0: a held lock gives EAGAIN at once");
	kill_holder(holder);
	int fd = shm_open("/held0", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0, "... and a free one is taken");
	close(fd);
	shm_unlink("/held0");
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

	test_killed_holder();
	test_killed_in_calls();
	test_short_wait();
	test_long_wait();
	ok(run_self("timeout", "SHMSHIM_LOCK_TIMEOUT_MS", "300", NULL) == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=300 (see the sub-run above)");
	ok(run_self("no-wait", "SHMSHIM_LOCK_TIMEOUT_MS", "0", NULL) == 0,
	   "SHMSHIM_LOCK_TIMEOUT_MS=0 (see the sub-run above)");
	root_is_empty("at the end");
	return done_testing();
}
