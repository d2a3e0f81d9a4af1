/* devshm.h - the open and stat of paths beneath /dev/shm, for devdir.c. */
#ifndef SHMSHIM_DEVSHM_H
#define SHMSHIM_DEVSHM_H

#include <sys/stat.h>
#include <sys/types.h>

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
