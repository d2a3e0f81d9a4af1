/*
 * lock.c - flock with bounded waits, and the name's lock file.
 *
 * Every lock here is flock(LOCK_EX), which the kernel drops when its
 * holder dies (DESIGN.md I2), polled with LOCK_NB so that a wait is
 * bounded by SHMSHIM_LOCK_TIMEOUT_MS and proceeds in small steps (I4).
 *
 * An object's own lock is flock on its data file (see place.c). The lock
 * file <root>/.SHMLfoo serves the few calls that must own a name before
 * its object exists or without being able to open it; illumos locks by
 * creating that file with O_EXCL and sleeps a whole second while it
 * exists, so a holder that dies blocks everyone. Here the file is only a
 * meeting point, made when missing and removed by its holder on release.
 * A waiter that then gets the lock finds the file it locked has no links
 * left (st_nlink == 0) and starts again on whatever is at the path now, so
 * two processes never hold "the" lock at once.
 *
 * The file is opened read-only, which is enough for flock, and made mode
 * 0444 so that users other than its creator can lock it too. It is never
 * opened with O_CREAT once it exists: with fs.protected_regular an O_CREAT
 * open of another user's file in a sticky directory fails even though the
 * file exists.
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

#define SPIN_STEPS 16         /* first, just yield the processor */
#define FIRST_SLEEP_NS 20000L /* then sleep 20 us, doubling ... */
#define MAX_SLEEP_NS 1000000L /* ... up to 1 ms */

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void wait_start(struct waiter *w, long timeout_ms)
{
	w->deadline = -1;
	w->timeout_ms = timeout_ms;
	w->steps = 0;
	w->sleep_ns = FIRST_SLEEP_NS;
}

int wait_step(struct waiter *w)
{
	if (w->deadline < 0)
		w->deadline = now_ms() + w->timeout_ms;
	else if (now_ms() >= w->deadline)
		return errno = EAGAIN, -1;
	if (w->steps++ < SPIN_STEPS) {
		sched_yield();
		return 0;
	}
	struct timespec ts = { 0, w->sleep_ns };

	nanosleep(&ts, NULL);
	w->sleep_ns = w->sleep_ns * 2 < MAX_SLEEP_NS ? w->sleep_ns * 2 : MAX_SLEEP_NS;
	return 0;
}

int lock_fd(int fd, struct waiter *w)
{
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
		if (errno != EWOULDBLOCK && errno != EINTR)
			return -1;
		if (wait_step(w) < 0)
			return -1;
	}
}

void unlock_fd(int fd)
{
	int saved = errno;

	(void)flock(fd, LOCK_UN);
	errno = saved;
}

void unlock_close(int fd)
{
	unlock_fd(fd);
	close_keep_errno(fd);
}

/*
 * Opens the lock file, creating it when missing (the usual case: lock
 * files live only as long as a call). Returns the descriptor, or -1 with
 * errno.
 */
static int open_lock_file(int dir_fd, const char *leaf, bool *created)
{
	const int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
	bool create = true;

	for (int tries = 0; tries < 64; tries++) {
		int oflags = create ? flags | O_CREAT | O_EXCL : flags;
		int fd = dir_fd == AT_FDCWD ? sys_openat(dir_fd, leaf, oflags, LOCK_MODE)
					    : sys_openat_here(dir_fd, leaf, oflags, LOCK_MODE);

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

int lock_take(int dir_fd, const char *leaf, long timeout_ms, struct lock *lk)
{
	struct waiter w;

	wait_start(&w, timeout_ms);
	for (;;) {
		struct stat st;
		bool created;
		int fd = open_lock_file(dir_fd, leaf, &created);

		if (fd < 0)
			return -1;
		if (lock_fd(fd, &w) < 0) {
			close_keep_errno(fd);
			return -1;
		}
		/* From here on fd holds the lock: every close unlocks first. */
		if (sys_fstat(fd, &st) < 0) {
			unlock_close(fd);
			return -1;
		}
		if (!S_ISREG(st.st_mode)) {
			unlock_close(fd);
			return errno = EINVAL, -1;
		}
		if (st.st_nlink > 0) {
			/* The umask may have taken bits off; others need to read it. */
			if (created && (st.st_mode & 07777) != LOCK_MODE)
				(void)fchmod(fd, LOCK_MODE);
			lk->fd = fd;
			return 0;
		}
		/* The holder before us removed it: start again. */
		unlock_close(fd);
		if (wait_step(&w) < 0)
			return -1;
	}
}

void lock_release(int dir_fd, const char *leaf, struct lock *lk)
{
	int saved = errno;

	(void)sys_unlinkat(dir_fd, leaf, 0);
	unlock_close(lk->fd);
	lk->fd = -1;
	errno = saved;
}
