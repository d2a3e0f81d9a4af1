/* devshm.h - the open and stat of paths beneath /dev/shm, for devdir.c. */
#ifndef SHMSHIM_DEVSHM_H
#define SHMSHIM_DEVSHM_H

#include <sys/stat.h>
#include <sys/types.h>

/*
 * For the work on a path beneath /dev/shm, kept out of the interposed
 * functions themselves: their frames are what every other path pays, on
 * whatever stack the caller has (musl's threads may have 2 KiB), so each
 * checks the path first (devpath_rest) and only then calls a function
 * with this mark, whose frame holds the paths under the root.
 */
#define BENEATH __attribute__((noinline))

/* What the calls below return for a path the C library takes. */
#define NOT_OURS (-2)

/*
 * open(path, flags, mode) of a path beneath /dev/shm (README, "/dev/shm
 * itself"): a descriptor, -1 with errno, or NOT_OURS. call names it in
 * SHMSHIM_DEBUG's trace.
 */
int devshm_open(const char *call, const char *path, int flags, mode_t mode);

/*
 * fstatat(AT_FDCWD, path, buf, flags) of a path beneath /dev/shm: 0, -1
 * with errno, or NOT_OURS.
 */
int devshm_stat(const char *path, struct stat *buf, int flags);

#endif
