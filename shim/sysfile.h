/* sysfile.h - small helpers around file system calls, shared by the shim. */
#ifndef SHMSHIM_SYSFILE_H
#define SHMSHIM_SYSFILE_H

#include <errno.h>
#include <unistd.h>

/* Closes fd without disturbing errno, which holds the real cause. */
static inline void close_keep_errno(int fd)
{
	int saved = errno;

	close(fd);
	errno = saved;
}

/*
 * open(2) errors that mean "something other than a regular file is at
 * this path": a symbolic link refused by O_NOFOLLOW, a directory opened
 * for writing, a socket. The shim reports all of them as EINVAL.
 */
static inline int irregular_to_einval(int err)
{
	return err == ELOOP || err == EISDIR || err == ENXIO ? EINVAL : err;
}

#endif
