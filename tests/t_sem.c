/*
 * t_sem.c - named semaphores through the shim: files, POSIX semantics of
 * sem_open, sem_close and sem_unlink, the C library's own sem_wait and
 * sem_post across processes, and racing creators.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "tap.h"

static char p1[PATH_MAX], p2[PATH_MAX];

static int value_of(sem_t *s)
{
	int v = -1;

	return sem_getvalue(s, &v) == 0 ? v : -1;
}

static void test_basics(void)
{
	struct stat st;
	sem_t *s, *t;

	umask(022);
	s = sem_open("/basic", O_CREAT | O_EXCL, 0666, 3);
	ok(s != SEM_FAILED, "sem_open(O_CREAT|O_EXCL, value 3) creates /basic");
	ok(lstat(in_root(p1, sizeof p1, ".SEMDbasic"), &st) == 0 && S_ISREG(st.st_mode) &&
		   st.st_size == sizeof(sem_t) && (st.st_mode & 0777) == 0644,
	   "... as <root>/.SEMDbasic, one sem_t long, mode 0666 & ~umask");
	ok(value_of(s) == 3, "its value is 3");
	ok(sem_trywait(s) == 0 && value_of(s) == 2, "sem_trywait takes one");
	ok(sem_post(s) == 0 && value_of(s) == 3, "sem_post gives it back");

	fails_with((long)(sem_open("/basic", O_CREAT | O_EXCL, 0600, 1) == SEM_FAILED ? -1 : 0),
		   EEXIST, "O_CREAT|O_EXCL of an existing semaphore gives EEXIST");
	t = sem_open("/basic", 0);
	ok(t == s, "opening it again in the same process returns the same address");
	t = sem_open("/basic", O_CREAT, 0600, 9);
	ok(t == s && value_of(t) == 3,
	   "... also with O_CREAT, which neither resets the value nor the mode");
	ok(sem_close(s) == 0 && sem_close(s) == 0 && value_of(s) == 3,
	   "two of three sem_close calls leave it usable");
	ok(sem_close(s) == 0, "the third closes it");
	fails_with(sem_close(s), EINVAL, "a fourth gives EINVAL");

	sem_t local;
	sem_init(&local, 0, 1);
	fails_with(sem_close(&local), EINVAL, "sem_close of an unnamed semaphore gives EINVAL");
	sem_destroy(&local);

	fails_with((long)(sem_open("/big", O_CREAT, 0600, (unsigned)SEM_VALUE_MAX + 1) == SEM_FAILED ? -1 : 0),
		   EINVAL, "a value above SEM_VALUE_MAX gives EINVAL");
	fails_with((long)(sem_open("/missing", 0) == SEM_FAILED ? -1 : 0), ENOENT,
		   "opening a missing semaphore gives ENOENT");
	fails_with((long)(sem_open("noslash", O_CREAT, 0600, 1) == SEM_FAILED ? -1 : 0), EINVAL,
		   "a name without its slash gives EINVAL");

	s = sem_open("/basic", 0);
	ok(sem_unlink("/basic") == 0, "sem_unlink removes it");
	ok(!exists(p1), "... its file is gone");
	ok(sem_post(s) == 0 && value_of(s) == 4, "an open handle keeps working after unlink");
	fails_with(sem_unlink("/basic"), ENOENT, "a second sem_unlink gives ENOENT");
	t = sem_open("/basic", O_CREAT, 0600, 0);
	ok(t != SEM_FAILED && t != s && value_of(t) == 0,
	   "a new semaphore under the name is a new one, with its own value");
	sem_close(s);
	sem_close(t);
	sem_unlink("/basic");
	root_is_empty("after unlinking");
}

static void test_long_name(void)
{
	char name[260];
	sem_t *s;

	name[0] = '/';
	memset(name + 1, 'q', 253);
	name[254] = '\0';
	s = sem_open(name, O_CREAT | O_EXCL, 0600, 5);
	ok(s != SEM_FAILED && value_of(s) == 5, "a 253-character name works (hashed layout)");
	ok(count_entries(test_root()) == 1, "... under one hash directory");
	ok(sem_close(s) == 0 && sem_unlink(name) == 0, "close and unlink it");
	root_is_empty("(its directories are removed)");
}

static void test_hostile(void)
{
	char victim[PATH_MAX];
	int fd;

	snprintf(victim, sizeof victim, "%s.victim", test_root());
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "victim", 6) != 6)
		bail("victim");
	close(fd);
	if (symlink(victim, in_root(p1, sizeof p1, ".SEMDlink")) < 0)
		bail("symlink");
	fails_with((long)(sem_open("/link", O_CREAT, 0600, 1) == SEM_FAILED ? -1 : 0), EINVAL,
		   "a symlink at a semaphore's path gives EINVAL");
	struct stat st;
	ok(stat(victim, &st) == 0 && st.st_size == 6, "... and its target is untouched");
	unlink(p1);

	/* Creating a semaphore under a temporary name takes the name's lock file. */
	char lock_target[PATH_MAX];
	bool locks = sem_create_locks();
	snprintf(lock_target, sizeof lock_target, "%s.target", test_root());
	if (symlink(lock_target, in_root(p1, sizeof p1, ".SEMLlocklink")) < 0)
		bail("symlink");
	sem_t *made = sem_open("/locklink", O_CREAT, 0600, 1);
	if (locks)
		ok(made == SEM_FAILED && errno == EINVAL,
		   "without /proc: a symlink at a semaphore's lock path gives EINVAL when creating it");
	else
		ok(made != SEM_FAILED && sem_close(made) == 0 && sem_unlink("/locklink") == 0,
		   "with /proc: a symlink at a semaphore's lock path does not matter (no lock file)");
	ok(!exists(lock_target) && !exists(in_root(p2, sizeof p2, ".SEMDlocklink")),
	   "... the link's target is not created, and no semaphore is left");
	unlink(p1);
	mkdir(in_root(p1, sizeof p1, ".SEMLlockdir"), 0777);
	made = sem_open("/lockdir", O_CREAT, 0600, 1);
	if (locks)
		ok(made == SEM_FAILED && errno == EINVAL,
		   "a directory at a semaphore's lock path gives EINVAL too");
	else
		ok(made != SEM_FAILED && sem_close(made) == 0 && sem_unlink("/lockdir") == 0,
		   "a directory there does not matter either");
	rmdir(p1);
	unlink(victim);

	fd = open(in_root(p1, sizeof p1, ".SEMDshort"), O_WRONLY | O_CREAT, 0600);
	close(fd);
	fails_with((long)(sem_open("/short", 0) == SEM_FAILED ? -1 : 0), EINVAL,
		   "a file too short to hold a semaphore gives EINVAL");
	unlink(p1);
	root_is_empty("after the hostile files");
}

/* Children post; the parent waits for every post. */
static void test_across_processes(void)
{
	const int procs = 4, posts = quick() ? 100 : 2000;
	sem_t *s = sem_open("/count", O_CREAT | O_EXCL, 0600, 0);
	int bad = 0;

	fflush(stdout);
	for (int i = 0; i < procs; i++)
		if (fork() == 0) {
			sem_t *c = sem_open("/count", 0);

			for (int j = 0; j < posts && c != SEM_FAILED; j++)
				sem_post(c);
			_exit(c == SEM_FAILED);
		}
	for (int i = 0; i < procs * posts; i++)
		if (sem_wait(s) != 0)
			bad++;
	for (int i = 0; i < procs; i++)
		bad += wait(NULL) < 0;
	ok(bad == 0 && value_of(s) == 0,
	   "%d processes post %d times each; the parent's %d sem_waits all return; the value ends at 0",
	   procs, posts, procs * posts);
	fails_with(sem_trywait(s), EAGAIN, "sem_trywait on 0 gives EAGAIN");
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += 50000000;
	if (ts.tv_nsec >= 1000000000) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000;
	}
	fails_with(sem_timedwait(s, &ts), ETIMEDOUT, "sem_timedwait on 0 times out");
	sem_close(s);

	/* A semaphore as a mutex around a counter in shared memory. */
	long *counter = mmap(NULL, sizeof *counter, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	s = sem_open("/mutex", O_CREAT | O_EXCL, 0600, 1);
	*counter = 0;
	fflush(stdout);
	for (int i = 0; i < procs; i++)
		if (fork() == 0) {
			sem_t *m = sem_open("/mutex", 0);

			for (int j = 0; j < posts && m != SEM_FAILED; j++) {
				sem_wait(m);
				long v = *counter;
				sched_yield();
				*counter = v + 1;
				sem_post(m);
			}
			_exit(0);
		}
	for (int i = 0; i < procs; i++)
		wait(NULL);
	ok(*counter == (long)procs * posts,
	   "as a mutex across %d processes, it guards a counter to exactly %d (got %ld)",
	   procs, procs * posts, *counter);
	munmap(counter, sizeof *counter);
	sem_close(s);
	sem_unlink("/count");
	sem_unlink("/mutex");
	root_is_empty("after the cross-process tests");
}

struct race {
	pthread_barrier_t barrier;
	atomic_int winners, seen_wrong, errors;
};

/* Each racer: O_CREAT|O_EXCL, then O_CREAT with value 7 on a second name. */
static void racer(struct race *r, int rounds)
{
	for (int i = 0; i < rounds; i++) {
		pthread_barrier_wait(&r->barrier);
		sem_t *a = sem_open("/rx", O_CREAT | O_EXCL, 0600, 1);
		int a_errno = errno;
		sem_t *b = sem_open("/rc", O_CREAT, 0600, 7);

		if (a != SEM_FAILED) {
			atomic_fetch_add(&r->winners, 1);
			sem_close(a);
		} else if (a_errno != EEXIST) {
			diag("racer: sem_open(O_CREAT|O_EXCL): %s", strerror(a_errno));
			atomic_fetch_add(&r->errors, 1);
		}
		if (b == SEM_FAILED) {
			diag("racer: sem_open(O_CREAT): %s", strerror(errno));
			atomic_fetch_add(&r->errors, 1);
		}
		else if (value_of(b) != 7)
			atomic_fetch_add(&r->seen_wrong, 1);
		if (b != SEM_FAILED)
			sem_close(b);
		pthread_barrier_wait(&r->barrier);
		if (sem_unlink("/rx") == 0)
			atomic_fetch_add(&r->winners, 100000);
		sem_unlink("/rc");
		pthread_barrier_wait(&r->barrier);
	}
}

static void test_racing_creators(void)
{
	const int procs = 4, rounds = quick() ? 20 : 150;
	struct race *r = mmap(NULL, sizeof *r, PROT_READ | PROT_WRITE,
			      MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pthread_barrierattr_t attr;

	pthread_barrierattr_init(&attr);
	pthread_barrierattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);
	pthread_barrier_init(&r->barrier, &attr, procs);
	fflush(stdout);
	for (int i = 0; i < procs; i++)
		if (fork() == 0) {
			racer(r, rounds);
			_exit(0);
		}
	for (int i = 0; i < procs; i++)
		wait(NULL);
	ok(atomic_load(&r->winners) == rounds * 100001,
	   "%d processes racing O_CREAT|O_EXCL: one creator and one unlinker in each of %d rounds",
	   procs, rounds);
	ok(atomic_load(&r->seen_wrong) == 0,
	   "racing O_CREAT openers never see a half-made semaphore (value always 7)");
	ok(atomic_load(&r->errors) == 0, "... and get no other error");
	munmap(r, sizeof *r);
	root_is_empty("after the races");
}

/*
 * A new semaphore is never seen half made. The creator (this program run
 * again as "t_sem create NAME") is slowed down by strace, each of its
 * writes delayed by a second; meanwhile an opener looks every 10 ms, and
 * must find nothing (ENOENT) or the whole semaphore (value 3), never a
 * file still empty (EINVAL, too short) or a value of 0.
 */
static void test_never_half_made(const char *self)
{
	int seen_whole = 0, seen_none = 0, seen_other = 0, v;
	pid_t creator;

#ifdef __SANITIZE_ADDRESS__
	/* LeakSanitizer needs ptrace itself, which strace has taken. */
	(void)self, (void)v, (void)creator;
	skip(2, "a program traced by strace cannot run under AddressSanitizer (preload run checks it)");
	return;
#endif
	if (getenv("SHMSHIM_TEST_VALGRIND") || !have_program("strace")) {
		skip(2, "needs strace, and not valgrind (the preload run checks it)");
		return;
	}
	fflush(stdout);
	creator = fork();
	if (creator == 0) {
		exec_self_traced((char *[]){"-f", "-qq", "-o", "/dev/null", "-e", "trace=write",
					    "-e", "inject=write:delay_enter=1000000", NULL},
			      (char *[]){(char *)self, "create", "/slow", NULL});
		_exit(127);
	}
	for (int i = 0; i < 300 && !seen_whole; i++) {
		sem_t *s = sem_open("/slow", 0);

		if (s == SEM_FAILED) {
			if (errno == ENOENT)
				seen_none++;
			else
				seen_other++;
		} else {
			v = -1;
			if (sem_getvalue(s, &v) == 0 && v == 3)
				seen_whole++;
			else
				seen_other++;
			sem_close(s);
		}
		sleep_ms(10);
	}
	ok(wait_status(creator) == 0 && seen_whole == 1 && seen_none > 0,
	   "a slowed creator: openers saw nothing (%d times), then the whole semaphore", seen_none);
	ok(seen_other == 0, "... and never a half-made one (%d times)", seen_other);
	sem_unlink("/slow");
}

/*
 * A thread with a descriptor table of its own (unshare(CLONE_FILES))
 * creates a semaphore, after the main thread opened a file under the
 * descriptor number the thread's new file gets: the semaphore must be
 * the thread's file, and the main thread's file must not gain a link.
 */
static int pipe_to_thread[2], pipe_to_main[2];

static void *unshared_creator(void *arg)
{
	sem_t **made = arg;
	char c;

	if (unshare(CLONE_FILES) < 0 || write(pipe_to_main[1], "u", 1) != 1 ||
	    read(pipe_to_thread[0], &c, 1) != 1)
		return NULL;
	*made = sem_open("/thr", O_CREAT | O_EXCL, 0600, 6);
	return NULL;
}

static void test_unshared_thread(void)
{
	sem_t *made = SEM_FAILED;
	char decoy[PATH_MAX], c;
	struct stat st;
	pthread_t t;
	int fd, v = -1;

	if (pipe(pipe_to_thread) < 0 || pipe(pipe_to_main) < 0)
		bail("pipe");
	snprintf(decoy, sizeof decoy, "%s.decoy", test_root());
	pthread_create(&t, NULL, unshared_creator, &made);
	if (read(pipe_to_main[0], &c, 1) != 1)
		bail("thread");
	/* The lowest free number, the one the thread's new file gets too. */
	fd = open(decoy, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || write(fd, "decoy", 5) != 5 || write(pipe_to_thread[1], "go", 1) != 1)
		bail("decoy");
	pthread_join(t, NULL);
	if (made != SEM_FAILED)
		sem_getvalue(made, &v);
	ok(made != SEM_FAILED && v == 6,
	   "a thread with its own descriptor table creates a semaphore (value %d, want 6)", v);
	ok(fstat(fd, &st) == 0 && st.st_nlink == 1 && st.st_size == 5,
	   "... and the main thread's file of the same descriptor number gained no link");
	if (made != SEM_FAILED)
		sem_close(made);
	sem_unlink("/thr");
	close(fd);
	unlink(decoy);
	for (int i = 0; i < 2; i++) {
		close(pipe_to_thread[i]);
		close(pipe_to_main[i]);
	}
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 2 && strcmp(argv[1], "create") == 0) {
		sem_t *s = sem_open(argv[2], O_CREAT | O_EXCL, 0600, 3);

		return s != SEM_FAILED && sem_close(s) == 0 ? 0 : 1;
	}
	test_never_half_made(argv[0]);
	test_unshared_thread();
	test_basics();
	test_long_name();
	test_hostile();
	test_across_processes();
	test_racing_creators();
	return done_testing();
}
