/* sysfile.h - small helpers around file system calls, shared by the shim. */
#ifndef SHMSHIM_SYSFILE_H
#define SHMSHIM_SYSFILE_H

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/*
 * 32-bit platforms are not supported (README, Platforms): there the C
 * library's struct stat is not the kernel's (sys_fstat below), and off_t
 * may be 32 bits wide.
 */
#if defined(__SIZEOF_LONG__) && __SIZEOF_LONG__ < 8
#error "shmshim supports 64-bit platforms only (x86_64, aarch64): see README, Platforms"
#endif

/*
 * fstat and fstatat, straight from the kernel. Since glibc 2.33 they are
 * functions of the C library with a new symbol version (GLIBC_2.33);
 * before, they were inline wrappers of __fxstat, so a library built on a
 * new glibc that called them would not load on an older one (README,
 * Platforms). The system calls bind to nothing newer than syscall(2),
 * and do the same on musl. On the 64-bit platforms we support (x86_64,
 * aarch64) the kernel's struct stat is the C library's.
 */
static inline int sys_fstat(int fd, struct stat *st)
{
	return (int)syscall(SYS_fstat, fd, st);
}

static inline int sys_fstatat(int dir, const char *path, struct stat *st, int flags)
{
	return (int)syscall(SYS_newfstatat, dir, path, st, flags);
}

/*
 * openat, unlinkat and mkdirat, straight from the kernel: the library
 * interposes open, openat, unlink, mkdir and the rest themselves on paths
 * beneath /dev/shm (devshm.c, devdir.c), and its own calls must never
 * come back into those. No path the shim opens is a terminal or needs
 * the C library's cancellation point: the calls run with cancellation
 * disabled (api.h).
 */
static inline int sys_openat(int dir, const char *path, int flags, mode_t mode)
{
	return (int)syscall(SYS_openat, dir, path, flags, mode);
}

static inline int sys_open(const char *path, int flags, mode_t mode)
{
	return sys_openat(AT_FDCWD, path, flags, mode);
}

/*
 * openat of a name directly in the directory dir (not AT_FDCWD) that
 * follows no link and enters no other file system: a mount at the name
 * (a FUSE server of another user's could hold the open as long as it
 * pleased) is EXDEV. openat2 with RESOLVE_NO_XDEV (Linux 5.6); without
 * it, openat with O_NOFOLLOW, which a mount at the name still enters.
 */
static inline int sys_openat_here(int dir, const char *leaf, int flags, mode_t mode)
{
#ifdef SYS_openat2
	/*
	 * Set once the kernel answered ENOSYS (before 5.6, or under valgrind,
	 * which warns at each try): a cache of what the kernel can do, as
	 * next.c keeps the C library's functions, one per file that calls
	 * this. EPERM (a seccomp policy that does not know the call) falls
	 * back too, each time.
	 */
	static int no_openat2;
	struct { /* the kernel's struct open_how (linux/openat2.h) */
		unsigned long long flags, mode, resolve;
	} how = { (unsigned)flags, flags & O_CREAT ? mode : 0, 0x01 | 0x04 }; /* NO_XDEV, NO_SYMLINKS */

	if (!__atomic_load_n(&no_openat2, __ATOMIC_RELAXED)) {
		int fd = (int)syscall(SYS_openat2, dir, leaf, &how, sizeof how);

		if (fd >= 0 || (errno != ENOSYS && errno != EPERM))
			return fd;
		/* An EPERM may be the file's own answer: asked again next time. */
		if (errno == ENOSYS)
			__atomic_store_n(&no_openat2, 1, __ATOMIC_RELAXED);
	}
#endif
	return sys_openat(dir, leaf, flags | O_NOFOLLOW, mode);
}

static inline int sys_unlinkat(int dir, const char *path, int flags)
{
	return (int)syscall(SYS_unlinkat, dir, path, flags);
}

static inline int sys_mkdirat(int dir, const char *path, mode_t mode)
{
	return (int)syscall(SYS_mkdirat, dir, path, mode);
}

/* Whether dir/path exists (a link is not followed). */
static inline int sys_exists(int dir, const char *path)
{
	struct stat st;

	return sys_fstatat(dir, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
}

/*
 * faccessat(AT_FDCWD, path, mode, AT_EACCESS): with the effective ids,
 * which faccessat2 (Linux 5.8) takes; before it, the real ones, which
 * differ only in a set-user-ID program.
 */
static inline int sys_eaccess(const char *path, int mode)
{
#ifdef SYS_faccessat2
	int r = (int)syscall(SYS_faccessat2, AT_FDCWD, path, mode, AT_EACCESS);

	if (r == 0 || errno != ENOSYS)
		return r;
#endif
	return (int)syscall(SYS_faccessat, AT_FDCWD, path, mode);
}

/* "/proc/self/fd/N" in buf, the path through which fd's file is reached
 * (no snprintf: these calls may run on the smallest of thread stacks). */
static inline void sys_fd_path(int fd, char buf[32])
{
	char digits[12];
	int n = 0;

	do
		digits[n++] = (char)('0' + fd % 10);
	while ((fd /= 10) > 0);
	memcpy(buf, "/proc/self/fd/", 14);
	buf += 14;
	while (n > 0)
		*buf++ = digits[--n];
	*buf = '\0';
}

/*
 * chmod of the file behind the O_PATH descriptor fd. The kernel has no
 * fchmod for such descriptors before Linux 6.6's fchmodat2, so through
 * /proc/self/fd: without /proc it fails (ENOENT).
 */
static inline int sys_chmod_path_fd(int fd, mode_t mode)
{
	char buf[32];

	sys_fd_path(fd, buf);
	return (int)syscall(SYS_fchmodat, AT_FDCWD, buf, mode);
}

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
 * for writing, a socket, a mount point (sys_openat_here). The shim
 * reports all of them as EINVAL.
 */
static inline int irregular_to_einval(int err)
{
	return err == ELOOP || err == EISDIR || err == ENXIO || err == EXDEV ? EINVAL : err;
}

#endif
