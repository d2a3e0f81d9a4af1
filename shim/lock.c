/*
 * lock.c - the per-name lock.
 *
 * illumos locks a name by creating its lock file with O_EXCL and sleeps a
 * whole second when it exists; a holder that dies leaves the file behind
 * and blocks everyone. Here the lock file is only a meeting point: the lock
 * itself is flock(LOCK_EX) on it, which the kernel drops when the holder
 * dies (DESIGN.md I2). Because the file carries no state, it may outlive a
 * call, which saves creating and removing a file on every call.
 *
 * The one subtlety is removal. A holder that removes the lock file does so
 * while holding the lock; a waiter that then gets the lock finds the file
 * it locked has no links left (st_nlink == 0) and starts again on whatever
 * is at the path now. So two processes can never hold "the" lock at once.
 *
 * The file is opened read-only, which is enough for flock, and made mode
 * 0444 so that users other than its creator can lock it too. It is never
 * opened with O_CREAT unless it is missing: with fs.protected_regular an
 * O_CREAT open of another user's file in a sticky directory fails even
 * though the file exists.
 *
 * The lock knows nothing of shared memory or semaphores.
 */
#define _GNU_SOURCE
#include "lock.h"
#include "sysfile.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOCK_MODE 0444

/* Polling steps while another process holds the lock. */
#define SPIN_TRIES 16        /* first, just yield the processor */
#define FIRST_SLEEP_NS 20000L /* then sleep 20 us, doubling ... */
#define MAX_SLEEP_NS 1000000L /* ... up to 1 ms (DESIGN.md I4) */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_lock_file(int dir_fd, const char *leaf, bool create)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;

	if (create)
		flags |= O_CREAT | O_EXCL;
	return openat(dir_fd, leaf, flags, LOCK_MODE);
}

/*
 * Opens the lock file, creating it when missing. Sets *created. Returns the
 * descriptor, or -1 with errno.
 */
static int open_or_create(int dir_fd, const char *leaf, bool likely_new,
			  bool *created)
{
	bool create = likely_new;

	for (int tries = 0; tries < 64; tries++) {
		int fd = open_lock_file(dir_fd, leaf, create);

		if (fd >= 0) {
			*created = create;
			return fd;
		}
		if (create && errno == EEXIST)
			create = false;
		else if (!create && errno == ENOENT)
			create = true;
		else
			return errno = irregular_to_einval(errno), -1;
	}
	/* The file keeps appearing and vanishing: someone is playing games. */
	return errno = EAGAIN, -1;
}

/* flock with a bounded wait. *deadline is set on first contention. */
static int wait_for_flock(int fd, long timeout_ms, long long *deadline)
{
	long sleep_ns = FIRST_SLEEP_NS;

	for (int i = 0;; i++) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (*deadline < 0)
			*deadline = now_ms() + timeout_ms;
		else if (now_ms() >= *deadline)
			return errno = EAGAIN, -1;
		if (i < SPIN_TRIES) {
			sched_yield();
		} else {
			struct timespec ts = { 0, sleep_ns };

			nanosleep(&ts, NULL);
			if (sleep_ns < MAX_SLEEP_NS)
				sleep_ns = sleep_ns * 2 < MAX_SLEEP_NS
						   ? sleep_ns * 2 : MAX_SLEEP_NS;
		}
	}
}

int lock_take(int dir_fd, const char *leaf, bool likely_new, long timeout_ms,
	      struct lock *lk)
{
	long long deadline = -1;

	for (;;) {
		struct stat st;
		bool created = false;
		int fd = open_or_create(dir_fd, leaf, likely_new, &created);

		if (fd < 0)
			return -1;
		if (wait_for_flock(fd, timeout_ms, &deadline) < 0 ||
		    fstat(fd, &st) < 0) {
			close_keep_errno(fd);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			close(fd);
			return errno = EINVAL, -1;
		}
		if (st.st_nlink == 0) {
			/* The holder before us removed it: start again. */
			close(fd);
			likely_new = true;
			if (deadline >= 0 && now_ms() >= deadline)
				return errno = EAGAIN, -1;
			continue;
		}
		/* The umask may have taken bits off; others need to read it. */
		if (created && (st.st_mode & 07777) != LOCK_MODE)
			(void)fchmod(fd, LOCK_MODE);
		lk->fd = fd;
		lk->created = created;
		return 0;
	}
}

void lock_release(int dir_fd, const char *leaf, struct lock *lk,
		  bool remove_file)
{
	int saved = errno;

	if (remove_file)
		(void)unlinkat(dir_fd, leaf, 0);
	/*
	 * Unlock explicitly rather than rely on close: a child forked by
	 * another thread meanwhile shares the open file description, and
	 * would otherwise keep the lock until it exits or execs.
	 */
	(void)flock(lk->fd, LOCK_UN);
	close(lk->fd);
	lk->fd = -1;
	errno = saved;
}
