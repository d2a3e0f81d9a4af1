/*
 * t_race.c - concurrency (DESIGN.md I1): threads and processes racing
 * O_CREAT|O_EXCL on one name get exactly one winner every round; a storm of
 * creates, opens and unlinks never fails oddly or strands a file; and
 * shm_open is not a cancellation point.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "holder.h"
#include "tap.h"

#define THREADS 8
#define PROCS 4

static pthread_barrier_t barrier;
static int results[THREADS], errnos[THREADS];

static void *excl_thread(void *arg)
{
	int id = (int)(long)arg;
	int rounds = quick() ? 30 : 300;

	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&barrier);
		errno = 0;
		results[id] = shm_open("/excl", O_RDWR | O_CREAT | O_EXCL, 0600);
		errnos[id] = errno;
		pthread_barrier_wait(&barrier); /* main checks and cleans */
		pthread_barrier_wait(&barrier);
	}
	return NULL;
}

static void test_threads_excl(void)
{
	int rounds = quick() ? 30 : 300, good = 0, bad_errno = 0;
	pthread_t t[THREADS];

	pthread_barrier_init(&barrier, NULL, THREADS + 1);
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, excl_thread, (void *)i);
	for (int r = 0; r < rounds; r++) {
		int winners = 0;

		pthread_barrier_wait(&barrier);
		pthread_barrier_wait(&barrier);
		for (int i = 0; i < THREADS; i++) {
			if (results[i] >= 0) {
				winners++;
				close(results[i]);
			} else if (errnos[i] != EEXIST) {
				bad_errno++;
			}
		}
		good += winners == 1;
		shm_unlink("/excl");
		pthread_barrier_wait(&barrier);
	}
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	ok(good == rounds, "%d threads racing O_CREAT|O_EXCL: one winner in %d of %d rounds",
	   THREADS, good, rounds);
	ok(bad_errno == 0, "... every loser got EEXIST (%d did not)", bad_errno);
	root_is_empty("after the thread race");
}

struct shared {
	pthread_barrier_t barrier;
	atomic_int winners[1000];
	atomic_int errors;
};

static void excl_process(struct shared *sh, int id, int rounds)
{
	for (int r = 0; r < rounds; r++) {
		pthread_barrier_wait(&sh->barrier);
		int fd = shm_open("/pexcl", O_RDWR | O_CREAT | O_EXCL, 0600);
		if (fd >= 0) {
			atomic_fetch_add(&sh->winners[r], 1);
			close(fd);
		} else if (errno != EEXIST) {
			atomic_fetch_add(&sh->errors, 1);
		}
		pthread_barrier_wait(&sh->barrier);
		if (id == 0 && shm_unlink("/pexcl") != 0)
			atomic_fetch_add(&sh->errors, 1);
		pthread_barrier_wait(&sh->barrier);
	}
}

static void test_processes_excl(void)
{
	int rounds = quick() ? 20 : 200, good = 0;
	struct shared *sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t attr;
	pid_t pids[PROCS];

	if (sh == MAP_FAILED)
		bail("mmap");
	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&sh->barrier, &attr, PROCS);
	fflush(stdout);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			excl_process(sh, i, rounds);
			_exit(0);
		}
	}
	for (int i = 0; i < PROCS; i++)
		wait_status(pids[i]);
	for (int r = 0; r < rounds; r++)
		good += atomic_load(&sh->winners[r]) == 1;
	ok(good == rounds, "%d processes racing O_CREAT|O_EXCL: one winner in %d of %d rounds",
	   PROCS, good, rounds);
	ok(atomic_load(&sh->errors) == 0, "... no other errors, every unlink worked");
	munmap(sh, sizeof *sh);
	root_is_empty("after the process race");
}

static const char *storm_names[] = {
	"/s0", "/s1",
	"/s2-long-yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy"
	"yyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyyy",
};

/* One process of the storm; returns the number of unexpected results. */
static int storm(int id, int ops)
{
	bool told = false;
	int bad = 0;

	srand(1000 + id);
	for (int i = 0; i < ops; i++) {
		const char *name = storm_names[rand() % 3];
		struct stat st;
		int fd;

		int op = rand() % 4;

		switch (op) {
		case 0:
			fd = shm_open(name, O_RDWR | O_CREAT, 0600);
			if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) ||
			    pwrite(fd, &id, sizeof id, 0) != sizeof id)
				bad++;
			break;
		case 1:
			fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
			if (fd < 0 && errno != EEXIST)
				bad++;
			break;
		case 2:
			fd = shm_open(name, O_RDONLY, 0);
			if (fd < 0 && errno != ENOENT)
				bad++;
			break;
		default:
			fd = -1;
			if (shm_unlink(name) < 0 && errno != ENOENT)
				bad++;
		}
		if (fd >= 0)
			close(fd);
		if (bad == 1 && !told) {
			told = true;
			fprintf(stderr, "# storm %d: op %d on %.12s...: %s\n", id, op, name,
				strerror(errno));
		}
	}
	return bad;
}

static void test_storm(void)
{
	int ops = quick() ? 200 : 3000, bad = 0;
	pid_t pids[PROCS];

	fflush(stdout);
	for (int i = 0; i < PROCS; i++) {
		pids[i] = fork();
		if (pids[i] == 0)
			_exit(storm(i, ops) ? 1 : 0);
	}
	for (int i = 0; i < PROCS; i++)
		bad += wait_status(pids[i]) != 0;
	ok(bad == 0, "%d processes doing %d random creates, opens and unlinks on 3 names: no unexpected result",
	   PROCS, ops);
	for (int i = 0; i < 3; i++)
		shm_unlink(storm_names[i]);
	root_is_empty("after unlinking the storm's names (no lock stranded)");
}

struct cancel_case {
	pthread_barrier_t ready;
	int fd;
	bool returned;
};

static void *cancelled_thread(void *arg)
{
	struct cancel_case *c = arg;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_barrier_wait(&c->ready); /* main cancels us now */
	pthread_barrier_wait(&c->ready);
	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
	/* A cancel is pending: the next cancellation point acts on it. */
	c->fd = shm_open("/cancel", O_RDWR | O_CREAT, 0600);
	c->returned = true;
	pthread_testcancel();
	return NULL;
}

static void test_cancel(bool contended)
{
	struct cancel_case c = { .fd = -1 };
	pid_t holder = 0;
	pthread_t t;

	if (contended) {
		/* An object under a lease, as shmclean holds: shm_open waits. */
		close(shm_open("/cancel", O_RDWR | O_CREAT, 0600));
		holder = start_holder_how(HOLD_LEASE, "cancel", 100);
	}
	void *ret;

	pthread_barrier_init(&c.ready, NULL, 2);
	pthread_create(&t, NULL, cancelled_thread, &c);
	pthread_barrier_wait(&c.ready);
	pthread_cancel(t);
	pthread_barrier_wait(&c.ready);
	pthread_join(t, &ret);
	ok(ret == PTHREAD_CANCELED && c.returned && c.fd >= 0,
	   "a thread with a pending cancel completes shm_open%s, then is cancelled",
	   contended ? " while waiting for a lease" : "");
	if (holder)
		wait_status(holder);
	if (c.fd >= 0)
		close(c.fd);
	ok(shm_unlink("/cancel") == 0, "... and the object it made is there");
	pthread_barrier_destroy(&c.ready);
}

static void *small_stack_calls(void *arg)
{
	static const char *names[] = {
		"/small",
		"/small-long-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"
		"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz",
	};
	int *failures = arg;
	struct stat st;
	int null = open("/dev/null", O_RDONLY);

	/* The file calls the library stands in for, on other paths. */
	*failures += null < 0 || close(null) < 0 || stat("/", &st) < 0 || access("/", F_OK) < 0 ||
		     mkdir("/", 0700) == 0 || unlink("/nonexistent-shmshim") == 0;
	for (int i = 0; i < 2; i++) {
		int fd = shm_open(names[i], O_RDWR | O_CREAT | O_EXCL, 0600);
		sem_t *sem = sem_open(names[i], O_CREAT | O_EXCL, 0600, 1);

		*failures += fd < 0 || close(fd) < 0 || shm_unlink(names[i]) < 0;
		*failures += sem == SEM_FAILED || sem_close(sem) < 0 || sem_unlink(names[i]) < 0;
	}
	return NULL;
}

/* A thread with the smallest stack POSIX allows can make every call. */
static void test_small_stack(void)
{
	pthread_attr_t attr;
	pthread_t t;
	int failures = 0;

#if defined(__SANITIZE_ADDRESS__)
	skip(2, "AddressSanitizer's red zones make every frame larger than the shim's own");
	return;
#endif
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, PTHREAD_STACK_MIN);
	ok(pthread_create(&t, &attr, small_stack_calls, &failures) == 0 &&
		   pthread_join(t, NULL) == 0 && failures == 0,
	   "a thread with a PTHREAD_STACK_MIN stack creates and removes objects and semaphores, "
	   "short and long names, and opens, stats and unlinks other paths");
	pthread_attr_destroy(&attr);
	root_is_empty("after the small-stack thread");
}

/*
 * Forking while locking: a child forked by one thread while another holds
 * a flock shares the locked open file description, so every locked
 * descriptor must be unlocked before it is closed, or the child keeps the
 * lock until it exits. Children here live longer than the time-out of the
 * sub-run (SHMSHIM_LOCK_TIMEOUT_MS=400), so a kept lock shows as EAGAIN.
 */
#define FORK_WORKERS 4
#define CHILD_LIFE_MS 700

static atomic_bool stop_forking;
static atomic_int fork_eagain, fork_other;

static void *forker(void *arg)
{
	pid_t *kids = arg;
	int n = 0;

	while (!atomic_load(&stop_forking) && n < 4000) {
		pid_t pid = fork();

		if (pid == 0) {
			struct timespec ts = { 0, CHILD_LIFE_MS * 1000000L };

			nanosleep(&ts, NULL);
			_exit(0);
		}
		if (pid > 0)
			kids[n++] = pid;
		sleep_ms(3);
	}
	kids[n] = 0;
	return NULL;
}

static void count_error(const char *call)
{
	if (errno == EAGAIN)
		atomic_fetch_add(&fork_eagain, 1);
	else if (errno != ENOENT) {
		atomic_fetch_add(&fork_other, 1);
		diag("%s: %s", call, strerror(errno));
	}
}

static void *lock_worker(void *arg)
{
	int rounds = *(int *)arg;

	for (int i = 0; i < rounds; i++) {
		const char *name = i % 2 ? "/fork1" : "/fork0";
		sem_t *s = sem_open(name, O_CREAT, 0600, 1);
		int fd;

		if (s == SEM_FAILED)
			count_error("sem_open");
		else
			sem_close(s);
		if (sem_unlink(name) < 0)
			count_error("sem_unlink");
		fd = shm_open(name, O_RDWR | O_CREAT, 0600);
		if (fd < 0)
			count_error("shm_open");
		else
			close(fd);
		if (shm_unlink(name) < 0)
			count_error("shm_unlink");
	}
	return NULL;
}

/* Run as "t_race fork" with SHMSHIM_LOCK_TIMEOUT_MS=400. */
static int fork_case(void)
{
	static pid_t kids[4001];
	int rounds = quick() ? 100 : 600;
	pthread_t f, w[FORK_WORKERS];

	pthread_create(&f, NULL, forker, kids);
	for (int i = 0; i < FORK_WORKERS; i++)
		pthread_create(&w[i], NULL, lock_worker, &rounds);
	for (int i = 0; i < FORK_WORKERS; i++)
		pthread_join(w[i], NULL);
	atomic_store(&stop_forking, true);
	pthread_join(f, NULL);
	for (int i = 0; kids[i]; i++)
		wait_status(kids[i]);
	ok(fork_eagain == 0 && fork_other == 0,
	   "%d threads creating and unlinking semaphores and objects while another forks: "
	   "no call timed out (%d EAGAIN, %d other errors)",
	   FORK_WORKERS, fork_eagain, fork_other);
	return tap_failures;
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_nested = argc > 1;
	if (argc > 1 && strcmp(argv[1], "fork") == 0)
		return fork_case();
	if (getenv("SHMSHIM_TEST_VALGRIND")) {
		/* Hundreds of children, each reporting at its exit: no more than noise. */
		skip(2, "forking while locking is a stress test, not run under valgrind");
	} else {
		ok(run_self("fork", "SHMSHIM_LOCK_TIMEOUT_MS", "400", NULL) == 0,
		   "forking while locking (see the sub-run above)");
		root_is_empty("after forking while locking");
	}
	test_threads_excl();
	test_processes_excl();
	test_storm();
	test_cancel(false);
	test_cancel(true);
	test_small_stack();
	root_is_empty("at the end");
	return done_testing();
}
