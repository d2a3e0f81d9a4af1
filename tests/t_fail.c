/*
 * t_fail.c - a failed call leaves nothing behind and reports the real
 * cause: out of descriptors (EMFILE) at every step of a flat and a hashed
 * name, and out of inodes on a tiny tmpfs (ENOSPC, needs root for the
 * private mount). An existing object survives a failed unlink.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>

#include "tap.h"

#define LONG_NAME                                                             \
	"/long-zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" \
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" \
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz" \
	"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"

/*
 * Descriptors a create or an unlink needs: the data file (an unlink
 * locks it); a hashed name adds its two directories.
 */
#define FLAT_FDS 1
#define HASHED_FDS 3

struct scenario {
	const char *name;
	int spare;      /* free descriptors or inodes */
	int want_errno; /* 0: the call must work */
};

/*
 * Lowers the soft limit on descriptors (valgrind allows no change to the
 * hard one), opens descriptors until none is left, then closes spare of
 * them. Returns the highest descriptor opened, or -1.
 */
static int use_up_descriptors(int spare)
{
	struct rlimit rl;
	int last = -1, fd;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	rl.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	while ((fd = open("/dev/null", O_RDONLY)) >= 0)
		last = fd;
	if (errno != EMFILE)
		return -1;
	for (int i = 0; i < spare; i++)
		close(last - i);
	return last;
}

/* Uses up every descriptor but s->spare, then creates s->name. */
static int emfile_create(void *arg)
{
	const struct scenario *s = arg;
	int last = use_up_descriptors(s->spare), fd;

	if (last < 0)
		return 100;
	errno = 0;
	fd = shm_open(s->name, O_RDWR | O_CREAT, 0600);
	if (s->want_errno == 0)
		return fd >= 0 ? 0 : 1;
	if (fd != -1 || errno != s->want_errno)
		return 2;
	close(last); /* listing the directory needs a descriptor */
	int n = count_entries(test_root());
	if (n != 0)
		list_entries(test_root());
	return n == 0 ? 0 : 3;
}

/*
 * With s->spare descriptors, unlinking an existing object works, as with
 * glibc: a program cleaning up after EMFILE must not leak its objects.
 */
static int emfile_unlink(void *arg)
{
	const struct scenario *s = arg;
	int last = use_up_descriptors(s->spare);

	if (last < 0)
		return 100;
	errno = 0;
	return shm_unlink(s->name) == 0 ? 0 : 1;
}

static int emfile_sem_unlink(void *arg)
{
	const struct scenario *s = arg;
	int last = use_up_descriptors(s->spare);

	if (last < 0)
		return 100;
	return sem_unlink(s->name) == 0 ? 0 : 1;
}

static void test_emfile(void)
{
	if (getenv("SHMSHIM_TEST_VALGRIND")) {
		/*
		 * valgrind enforces the descriptor limit after the kernel has
		 * opened, so an O_CREAT open that it refuses with EMFILE has
		 * created its file all the same; the kernel never does that.
		 */
		skip(9 * (FLAT_FDS + HASHED_FDS) + 4, /* as many as run below */
		     "under valgrind, EMFILE is emulated after the file is created");
		return;
	}
	for (int hashed = 0; hashed <= 1; hashed++) {
		const char *name = hashed ? LONG_NAME : "/fds";
		int need = hashed ? HASHED_FDS : FLAT_FDS;

		for (int spare = 0; spare <= need; spare++) {
			struct scenario s = { name, spare, spare < need ? EMFILE : 0 };
			int st = in_child(emfile_create, &s);

			if (!ok(st == 0, "%s name, %d spare descriptors: %s", hashed ? "hashed" : "flat",
				spare, spare < need ? "EMFILE and nothing left behind" : "created"))
				diag("child status %d", st);
			if (spare == need)
				shm_unlink(name);
		}
		root_is_empty("after the EMFILE runs");

		for (int spare = 0; spare < need; spare++) {
			struct scenario s = { name, spare, 0 };
			int fd = shm_open(name, O_RDWR | O_CREAT, 0600);

			ok(fd >= 0 && write(fd, "keep", 4) == 4, "create an object with data");
			close(fd);
			ok(in_child(emfile_unlink, &s) == 0,
			   "shm_unlink with %d spare descriptors works", spare);
			fails_with(shm_open(name, O_RDONLY, 0), ENOENT, "... and the object is gone");
			root_is_empty("... with its directories");
		}
		for (int spare = 0; spare < need; spare++) {
			struct scenario s = { name, spare, 0 };
			sem_t *sem = sem_open(name, O_CREAT, 0600, 1);

			ok(sem != SEM_FAILED && sem_close(sem) == 0, "create a semaphore");
			ok(in_child(emfile_sem_unlink, &s) == 0,
			   "sem_unlink with %d spare descriptors works", spare);
			ok(sem_open(name, 0) == SEM_FAILED && errno == ENOENT,
			   "... and the semaphore is gone");
			root_is_empty("... with its directories");
		}
	}
}

/*
 * In a private mount namespace, puts a tmpfs of few inodes on the root,
 * fills it, frees s->spare inodes and creates s->name.
 */
static int enospc_create(void *arg)
{
	const struct scenario *s = arg;
	const char *root = test_root();
	char path[PATH_MAX];
	int n = 0, fd;

	if (unshare(CLONE_NEWNS) < 0 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) < 0 ||
	    mount("tmpfs", root, "tmpfs", 0, "size=1m,nr_inodes=32,mode=1777") < 0)
		return 100;
	for (;; n++) {
		snprintf(path, sizeof path, "%s/fill%d", root, n);
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
		if (fd < 0)
			break;
		close(fd);
	}
	if (errno != ENOSPC)
		return 101;
	for (int i = 1; i <= s->spare; i++) {
		snprintf(path, sizeof path, "%s/fill%d", root, n - i);
		unlink(path);
	}
	errno = 0;
	fd = shm_open(s->name, O_RDWR | O_CREAT, 0600);
	if (s->want_errno == 0)
		return fd >= 0 && shm_unlink(s->name) == 0 && count_entries_except(root, "fill") == 0 ? 0 : 1;
	if (fd != -1 || errno != s->want_errno)
		return 2;
	return count_entries_except(root, "fill") == 0 ? 0 : 3;
}

static void test_enospc(void)
{
	if (geteuid() != 0) {
		skip(2 + HASHED_FDS + FLAT_FDS,
		     "ENOSPC needs root to mount a tiny tmpfs in a private namespace");
		return;
	}
	for (int hashed = 0; hashed <= 1; hashed++) {
		const char *name = hashed ? LONG_NAME : "/inodes";
		int need = hashed ? HASHED_FDS : FLAT_FDS; /* one inode per fd */

		for (int spare = 0; spare <= need; spare++) {
			struct scenario s = { name, spare, spare < need ? ENOSPC : 0 };
			int st = in_child(enospc_create, &s);

			if (!ok(st == 0, "tiny tmpfs, %s name, %d free inodes: %s",
				hashed ? "hashed" : "flat", spare,
				spare < need ? "ENOSPC and nothing left behind" : "created and unlinked"))
				diag("child status %d", st);
		}
	}
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	test_emfile();
	test_enospc();
	root_is_empty("at the end");
	return done_testing();
}
