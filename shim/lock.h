/* lock.h - the per-name lock file that serialises calls on one name. */
#ifndef SHMSHIM_LOCK_H
#define SHMSHIM_LOCK_H

#include <stdbool.h>

struct lock {
	int fd;       /* open on the lock file, flock()ed exclusively */
	bool created; /* this call created the lock file */
};

/*
 * Takes the lock file dir_fd/leaf (dir_fd may be AT_FDCWD with a full
 * path as leaf), creating it if needed. likely_new says the caller expects
 * no lock file, so creating it is tried first. Waits at most timeout_ms
 * for another holder. Returns 0, or -1 with errno: EAGAIN on time-out,
 * EINVAL when something other than a regular file is at the path, ENOENT
 * when the directory is missing, or what the system said.
 */
int lock_take(int dir_fd, const char *leaf, bool likely_new, long timeout_ms,
	      struct lock *lk);

/*
 * Releases the lock, first removing the lock file when remove_file is set
 * (a failure to remove is ignored: shmclean reports such files as stale).
 * Keeps errno.
 */
void lock_release(int dir_fd, const char *leaf, struct lock *lk,
		  bool remove_file);

#endif
