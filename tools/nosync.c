/*
 * nosync.c - stat without asking the file system.
 *
 * shmclean looks at files other users control: their descriptors in
 * /proc, and whatever they put in a shared root, a FUSE mount among them.
 * A stat(2) asks such a file system for fresh attributes (FUSE's getattr,
 * NFS's GETATTR) and waits, unkillably, for as long as its server does
 * not answer. statx with AT_STATX_DONT_SYNC takes what the kernel has;
 * the device, inode, type and owner are always there.
 *
 * The system call is made directly, with the kernel's struct statx
 * written out: C libraries before glibc 2.28 and musl 1.2.5 do not
 * declare it, and glibc's statx() would need GLIBC_2.28.
 */
#define _GNU_SOURCE
#include "nosync.h"
#include "sysfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

struct kernel_statx_time {
	int64_t sec;
	uint32_t nsec[2]; /* the nanoseconds, and padding */
};

/* The kernel's struct statx (linux/stat.h), whose layout is fixed. */
struct kernel_statx {
	uint32_t mask, blksize;
	uint64_t attributes;
	uint32_t nlink, uid, gid;
	uint16_t mode, pad;
	uint64_t ino, size, blocks, attributes_mask;
	struct kernel_statx_time atime, btime, ctime, mtime;
	uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
	uint64_t spare[14];
};
_Static_assert(sizeof(struct kernel_statx) == 256, "struct statx is 256 bytes");

#define KERNEL_STATX_BASIC_STATS 0x7ffU  /* STATX_BASIC_STATS */
#define KERNEL_AT_STATX_DONT_SYNC 0x4000 /* AT_STATX_DONT_SYNC */

static struct timespec to_timespec(const struct kernel_statx_time *t)
{
	struct timespec ts = { (time_t)t->sec, (long)t->nsec[0] };

	return ts;
}

int stat_nosync(int dir_fd, const char *name, struct stat *st, int flags)
{
#ifdef SYS_statx
	struct kernel_statx stx;

	if (syscall(SYS_statx, dir_fd, name, flags | KERNEL_AT_STATX_DONT_SYNC,
		    KERNEL_STATX_BASIC_STATS, &stx) == 0) {
		memset(st, 0, sizeof *st);
		st->st_dev = makedev(stx.dev_major, stx.dev_minor);
		st->st_ino = (ino_t)stx.ino;
		st->st_mode = stx.mode;
		st->st_nlink = stx.nlink;
		st->st_uid = stx.uid;
		st->st_gid = stx.gid;
		st->st_rdev = makedev(stx.rdev_major, stx.rdev_minor);
		st->st_size = (off_t)stx.size;
		st->st_blksize = (blksize_t)stx.blksize;
		st->st_blocks = (blkcnt_t)stx.blocks;
		st->st_atim = to_timespec(&stx.atime);
		st->st_mtim = to_timespec(&stx.mtime);
		st->st_ctim = to_timespec(&stx.ctime);
		return 0;
	}
	/* ENOSYS before Linux 4.11; EPERM from seccomp filters that predate
	 * statx (older container runtimes). Anything else is the answer. */
	if (errno != ENOSYS && errno != EPERM)
		return -1;
#endif
	return sys_fstatat(dir_fd, name, st, flags);
}

#ifdef SYS_openat2
/* The kernel's struct open_how (linux/openat2.h). */
struct kernel_open_how {
	uint64_t flags, mode, resolve;
};

#define KERNEL_RESOLVE_NO_XDEV 0x01
#define KERNEL_RESOLVE_NO_MAGICLINKS 0x02
#define KERNEL_RESOLVE_NO_SYMLINKS 0x04
#define KERNEL_RESOLVE_BENEATH 0x08
#endif

/* What is left of path below root, or NULL if path is not below root. */
static const char *below(const char *root, const char *path)
{
	size_t n = strlen(root);

	if (strncmp(path, root, n) != 0 || path[n] != '/' || path[n + 1] == '\0')
		return NULL;
	return path + n + 1;
}

int open_beneath(const char *root, const char *path, int flags)
{
	const char *rel = below(root, path);
	struct stat root_st, st;
	int root_fd, fd = -1;

	if (rel == NULL)
		return errno = EINVAL, -1;
	root_fd = open(*root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return -1;
#ifdef SYS_openat2
	struct kernel_open_how how;

	how.flags = (uint64_t)(flags | O_NOFOLLOW | O_CLOEXEC);
	how.mode = 0;
	how.resolve = KERNEL_RESOLVE_BENEATH | KERNEL_RESOLVE_NO_SYMLINKS |
		      KERNEL_RESOLVE_NO_MAGICLINKS | KERNEL_RESOLVE_NO_XDEV;

	fd = (int)syscall(SYS_openat2, root_fd, rel, &how, sizeof how);
	if (fd >= 0 || (errno != ENOSYS && errno != EPERM)) {
		int saved = errno;

		close(root_fd);
		errno = saved;
		return fd;
	}
#endif
	/* No openat2: at least nothing on another file system at the end. */
	if (sys_fstat(root_fd, &root_st) == 0 &&
	    stat_nosync(root_fd, rel, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (st.st_dev == root_st.st_dev)
			fd = openat(root_fd, rel, flags | O_NOFOLLOW | O_CLOEXEC);
		else
			errno = EXDEV;
	}
	int saved = errno;

	close(root_fd);
	errno = saved;
	return fd;
}
