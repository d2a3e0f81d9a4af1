/* nosync.h - the status of a file from what the kernel has, without asking its file system. */
#ifndef SHMCLEAN_NOSYNC_H
#define SHMCLEAN_NOSYNC_H

#include <sys/stat.h>

/*
 * fstatat(dir_fd, name, st, flags) (flags: 0 or AT_SYMLINK_NOFOLLOW), but
 * with the attributes the kernel already has (statx, AT_STATX_DONT_SYNC):
 * a FUSE file system whose server does not answer, or a dead NFS server,
 * cannot make it wait. Where statx is missing (Linux before 4.11, old
 * seccomp filters) it is fstatat, which can wait. Fills st_dev, st_ino,
 * st_mode, st_nlink, st_uid, st_gid, st_rdev, st_size, st_blocks and the
 * times; returns 0 or -1 with errno.
 */
int stat_nosync(int dir_fd, const char *name, struct stat *st, int flags);

/*
 * open(path, flags) for a path under root (as the scan found it), taken
 * again later: resolved inside root only, following no symbolic link and
 * crossing into no other file system on the way (openat2 with
 * RESOLVE_BENEATH, RESOLVE_NO_SYMLINKS and RESOLVE_NO_XDEV), so that what
 * another user swapped in meanwhile (a link, a FUSE mount) is refused
 * rather than followed. Before Linux 5.6, where openat2 is missing, only
 * the last component is checked (O_NOFOLLOW, and a file system other
 * than root's is refused). Returns a descriptor or -1 with errno.
 */
int open_beneath(const char *root, const char *path, int flags);

#endif
