/*
 * lock.h - flock with bounded, fine-grained waits: on an object's own data
 * file, and on a name's lock file.
 */
#ifndef SHMSHIM_LOCK_H
#define SHMSHIM_LOCK_H

#include <stdbool.h>

/*
 * The state of one bounded wait: how long it has waited and how long the
 * next step sleeps. Start it with wait_start.
 */
struct waiter {
	long long deadline; /* CLOCK_MONOTONIC ms; -1 until the first step */
	long timeout_ms;
	int steps;
	long sleep_ns;
};

void wait_start(struct waiter *w, long timeout_ms);

/*
 * Called when something another process holds was refused: waits one
 * step (a yield at first, then sleeps of 20 us doubling to 1 ms, never
 * more: DESIGN.md I4). Returns 0 to try again, or -1 with errno EAGAIN
 * once the time-out has passed since the first step.
 */
int wait_step(struct waiter *w);

/*
 * flock(LOCK_EX) on fd, waiting as w allows. Returns 0, or -1 with errno
 * (EAGAIN on time-out).
 */
int lock_fd(int fd, struct waiter *w);

/*
 * Unlocks before the caller closes fd: a child forked by another thread
 * meanwhile shares the open file description, and would otherwise keep
 * the lock until it exits or execs. Keeps errno.
 */
void unlock_fd(int fd);

/* unlock_fd, then close fd. Keeps errno. */
void unlock_close(int fd);

struct lock {
	int fd; /* open on the lock file, flock()ed exclusively */
};

/*
 * Takes the lock file dir_fd/leaf (dir_fd may be AT_FDCWD with a full
 * path as leaf), creating it when missing. Returns 0, or -1 with errno:
 * EAGAIN on time-out, EINVAL when something other than a regular file is
 * at the path, ENOENT when the directory is missing, or what the system
 * said.
 */
int lock_take(int dir_fd, const char *leaf, long timeout_ms, struct lock *lk);

/*
 * Removes the lock file and releases the lock (a failure to remove, say
 * another user's file in a sticky directory, is ignored: shmclean reports
 * such files as stale). Keeps errno.
 */
void lock_release(int dir_fd, const char *leaf, struct lock *lk);

#endif
