/*
 * sysctl.h - reading and setting fs.protected_* for a test, and restoring
 * them. The settings are global and the test programs run in parallel
 * (prove -j), so a test holds sysctl_lock() while it changes and restores
 * them.
 */
#ifndef SHMSHIM_SYSCTL_H
#define SHMSHIM_SYSCTL_H

#include <fcntl.h>
#include <sys/file.h>

#include "tap.h"

#define PROTECTED_REGULAR "/proc/sys/fs/protected_regular"
#define PROTECTED_HARDLINKS "/proc/sys/fs/protected_hardlinks"

/* The setting's value, or -1 when it cannot be read. */
TAP_FN int sysctl_read(const char *path)
{
	char buf[8] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* Sets it; true when it reads back as v. */
TAP_FN bool sysctl_set(const char *path, int v)
{
	char buf[4];
	int fd = open(path, O_WRONLY);
	bool done;

	snprintf(buf, sizeof buf, "%d\n", v);
	done = fd >= 0 && write(fd, buf, strlen(buf)) == (ssize_t)strlen(buf);
	if (fd >= 0)
		close(fd);
	return done && sysctl_read(path) == v;
}

/*
 * Takes the lock that serialises the tests that change the settings: a
 * flock on the directory of the test programs. Returns it, to be closed.
 */
TAP_FN int sysctl_lock(void)
{
	char dir[PATH_MAX];
	char *slash;
	int fd;

	snprintf(dir, sizeof dir, "%s", self_path);
	slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	fd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY);
	if (fd < 0 || flock(fd, LOCK_EX) < 0)
		bail("lock the test directory");
	return fd;
}

#endif
