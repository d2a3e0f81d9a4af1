/*
 * devdir.c - the rest of /dev/shm as a whole (devshm.c has open, unlink
 * and the stat family): directories (mkdir, rmdir, opendir), rename,
 * fopen, the mkstemp family, Unix sockets (bind, connect), chmod, chown,
 * truncate and glibc's old stat entry points, on paths beneath /dev/shm, in the places devpath.c
 * gives them under the root. Every other path goes to the C library.
 *
 * fopen and the mkstemp family open their files inside the C library,
 * where no interposition reaches, so for /dev/shm they are done here on
 * top of devshm_open: a temporary file of CPython or of Berkeley DB in
 * /dev/shm is then an object like any other.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "api.h"
#include "devpath.h"
#include "devshm.h"
#include "next.h"
#include "sysfile.h"

/* Calls the next definition of fn, or fails with ENOSYS if there is none. */
#define PASS(cache, fn, ...) \
	(NEXT(cache, fn) ? NEXT(cache, fn)(__VA_ARGS__) : -1)

static void *next_mkdir, *next_mkdirat, *next_rmdir, *next_rename, *next_renameat;
static void *next_opendir, *next_fopen, *next_bind, *next_connect;
static void *next_mkstemp, *next_mkostemp, *next_mkstemps, *next_mkostemps, *next_mkdtemp;

/*
 * The call (an *at system call) on path's place under the root: its
 * result, -1 with errno when there is no such place, or NOT_OURS.
 */
enum slot_call { SLOT_MKDIR, SLOT_RMDIR };

static BENEATH int at_slot(enum slot_call call, const char *path, mode_t mode)
{
	struct devpath dp;
	int r = devpath_find(path, &dp);

	if (r == 1 && call == SLOT_MKDIR)
		r = sys_mkdirat(dp.dir, dp.at, mode);
	else if (r == 1)
		r = sys_unlinkat(dp.dir, dp.at, AT_REMOVEDIR);
	else if (r == 0)
		r = NOT_OURS;
	devpath_release(&dp);
	return r;
}

/* mkdirat of path beneath /dev/shm, or NOT_OURS. */
static int mkdir_beneath(const char *path, mode_t mode)
{
	return devpath_rest(path) == NULL ? NOT_OURS : at_slot(SLOT_MKDIR, path, mode);
}

EXPORT int mkdir(const char *path, mode_t mode)
{
	int r = mkdir_beneath(path, mode);

	return r != NOT_OURS ? r : PASS(next_mkdir, mkdir, path, mode);
}

EXPORT int mkdirat(int dir, const char *path, mode_t mode)
{
	int r = mkdir_beneath(path, mode);

	return r != NOT_OURS ? r : PASS(next_mkdirat, mkdirat, dir, path, mode);
}

EXPORT int rmdir(const char *path)
{
	int r = devpath_rest(path) == NULL ? NOT_OURS : at_slot(SLOT_RMDIR, path, 0);

	return r != NOT_OURS ? r : PASS(next_rmdir, rmdir, path);
}

/*
 * renameat2 when from or to is beneath /dev/shm, or NOT_OURS. Both must
 * be: /dev/shm is a file system of its own, so a rename across its edge
 * is EXDEV, as without the shim.
 */
static BENEATH int rename_slots(const char *from, const char *to, unsigned flags)
{
	struct devpath a, b;
	int ra = devpath_find(from, &a), rb = devpath_find(to, &b), r;

	if (ra < 0 || rb < 0)
		r = -1;
	else if (ra == 0 && rb == 0)
		r = NOT_OURS;
	else if (ra != rb)
		r = (errno = EXDEV, -1);
	else
		r = (int)syscall(SYS_renameat2, a.dir, a.at, b.dir, b.at, flags);
	devpath_release(&b);
	devpath_release(&a);
	return r;
}

static int rename_beneath(const char *from, const char *to, unsigned flags)
{
	if (devpath_rest(from) == NULL && devpath_rest(to) == NULL)
		return NOT_OURS;
	return rename_slots(from, to, flags);
}

EXPORT int rename(const char *from, const char *to)
{
	int r = rename_beneath(from, to, 0);

	return r != NOT_OURS ? r : PASS(next_rename, rename, from, to);
}

EXPORT int renameat(int fromdir, const char *from, int todir, const char *to)
{
	int r = rename_beneath(from, to, 0);

	return r != NOT_OURS ? r : PASS(next_renameat, renameat, fromdir, from, todir, to);
}

EXPORT DIR *opendir(const char *path)
{
	int fd = devshm_open("opendir", path, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	DIR *d;

	if (fd == NOT_OURS)
		return NEXT(next_opendir, opendir) ? NEXT(next_opendir, opendir)(path) : NULL;
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (d == NULL)
		close_keep_errno(fd);
	return d;
}

/* open(2)'s flags for fopen's mode, or -1 (EINVAL) for a mode it refuses. */
static int fopen_flags(const char *mode)
{
	int flags;

	switch (*mode) {
	case 'r': flags = O_RDONLY; break;
	case 'w': flags = O_WRONLY | O_CREAT | O_TRUNC; break;
	case 'a': flags = O_WRONLY | O_CREAT | O_APPEND; break;
	default: errno = EINVAL; return -1;
	}
	for (mode++; *mode != '\0' && *mode != ','; mode++) {
		if (*mode == '+')
			flags = (flags & ~O_ACCMODE) | O_RDWR;
		else if (*mode == 'x')
			flags |= O_EXCL;
		else if (*mode == 'e')
			flags |= O_CLOEXEC;
	}
	return flags;
}

EXPORT FILE *fopen(const char *path, const char *mode)
{
	int flags, fd;
	FILE *f;

	if (devpath_rest(path) == NULL || mode == NULL)
		return NEXT(next_fopen, fopen) ? NEXT(next_fopen, fopen)(path, mode) : NULL;
	flags = fopen_flags(mode);
	if (flags < 0)
		return NULL;
	fd = devshm_open("fopen", path, flags, 0666);
	if (fd == NOT_OURS)
		return NEXT(next_fopen, fopen) ? NEXT(next_fopen, fopen)(path, mode) : NULL;
	if (fd < 0)
		return NULL;
	f = fdopen(fd, mode);
	if (f == NULL)
		close_keep_errno(fd);
	return f;
}

/*
 * The mkstemp family for a template beneath /dev/shm: the six X before
 * the suffix (suffix bytes at the end) replaced by random letters until
 * an open with O_CREAT | O_EXCL makes a new file, mode 0600 (a directory,
 * 0700, when dir). Returns the descriptor (0 for a directory), -1 with
 * errno, or NOT_OURS.
 */
static int make_temp(char *tmpl, int suffix, int flags, int dir)
{
	static const char letters[] =
		"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
	unsigned char rnd[6];
	size_t len;
	char *x;
	int tries, i;

	if (!devpath_ours(tmpl))
		return NOT_OURS; /* before the template is touched: the C library's then */
	len = strlen(tmpl);
	if (suffix < 0 || len < 6 + (size_t)suffix ||
	    strncmp(tmpl + len - suffix - 6, "XXXXXX", 6) != 0) {
		errno = EINVAL;
		return -1;
	}
	x = tmpl + len - suffix - 6;
	for (tries = 0; tries < 1000; tries++) {
		int fd;

		if (syscall(SYS_getrandom, rnd, sizeof rnd, 0) != (long)sizeof rnd)
			return -1;
		for (i = 0; i < 6; i++)
			x[i] = letters[rnd[i] % (sizeof letters - 1)];
		fd = dir ? mkdir_beneath(tmpl, 0700)
			 : devshm_open("mkstemp", tmpl, (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL,
				       0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = EEXIST;
	return -1;
}

EXPORT int mkstemp(char *tmpl)
{
	int fd = make_temp(tmpl, 0, 0, 0);

	return fd != NOT_OURS ? fd : PASS(next_mkstemp, mkstemp, tmpl);
}

EXPORT int mkostemp(char *tmpl, int flags)
{
	int fd = make_temp(tmpl, 0, flags, 0);

	return fd != NOT_OURS ? fd : PASS(next_mkostemp, mkostemp, tmpl, flags);
}

EXPORT int mkstemps(char *tmpl, int suffix)
{
	int fd = make_temp(tmpl, suffix, 0, 0);

	return fd != NOT_OURS ? fd : PASS(next_mkstemps, mkstemps, tmpl, suffix);
}

EXPORT int mkostemps(char *tmpl, int suffix, int flags)
{
	int fd = make_temp(tmpl, suffix, flags, 0);

	return fd != NOT_OURS ? fd : PASS(next_mkostemps, mkostemps, tmpl, suffix, flags);
}

EXPORT char *mkdtemp(char *tmpl)
{
	int r = make_temp(tmpl, 0, 0, 1);

	if (r == NOT_OURS)
		return NEXT(next_mkdtemp, mkdtemp) ? NEXT(next_mkdtemp, mkdtemp)(tmpl) : NULL;
	return r < 0 ? NULL : tmpl;
}

/* Whether addr may be a Unix socket's path beneath /dev/shm: cheap. */
static int socket_maybe(const struct sockaddr *addr, socklen_t len)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)addr;

	return addr != NULL && len > offsetof(struct sockaddr_un, sun_path) + 8 &&
	       addr->sa_family == AF_UNIX && len <= sizeof *un &&
	       memcmp(un->sun_path, "/dev/shm", 8) == 0;
}

/*
 * A Unix socket's address beneath /dev/shm, as its place under the root
 * in *out (a plain path: bind and connect have no *at forms). Returns 1,
 * 0 when the address is not ours, or -1 with errno (ENAMETOOLONG when the
 * place does not fit in sun_path).
 */
static int socket_place(const struct sockaddr *addr, socklen_t len, struct sockaddr_un *out)
{
	const struct sockaddr_un *un = (const struct sockaddr_un *)addr;
	char path[sizeof un->sun_path + 1];
	size_t n = len - offsetof(struct sockaddr_un, sun_path);
	struct devpath dp;
	int r;

	memcpy(path, un->sun_path, n);
	path[n] = '\0';
	r = devpath_find(path, &dp);
	if (r == 1) {
		size_t root = strlen(dp.obj.data), at = dp.dir == AT_FDCWD ? 0 : strlen(dp.at) + 1;

		if (root + at >= sizeof out->sun_path) {
			errno = ENAMETOOLONG;
			r = -1;
		} else {
			memset(out, 0, sizeof *out);
			out->sun_family = AF_UNIX;
			memcpy(out->sun_path, dp.obj.data, root);
			if (at != 0) {
				out->sun_path[root] = '/';
				memcpy(out->sun_path + root + 1, dp.at, at - 1);
			}
		}
	}
	devpath_release(&dp);
	return r;
}

/* bind (connect when not bind) of a socket whose path may be ours. */
static BENEATH int socket_beneath(int bind_it, int fd, const struct sockaddr *addr,
				  socklen_t len)
{
	struct sockaddr_un un;
	int r = socket_place(addr, len, &un);

	if (r < 0)
		return -1;
	if (r == 1) {
		addr = (const struct sockaddr *)&un;
		len = sizeof un;
	}
	return bind_it ? PASS(next_bind, bind, fd, addr, len)
		       : PASS(next_connect, connect, fd, addr, len);
}

EXPORT int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!socket_maybe(addr, len))
		return PASS(next_bind, bind, fd, addr, len);
	return socket_beneath(1, fd, addr, len);
}

EXPORT int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	if (!socket_maybe(addr, len))
		return PASS(next_connect, connect, fd, addr, len);
	return socket_beneath(0, fd, addr, len);
}

/*
 * A descriptor (O_PATH) of what path beneath /dev/shm names, for the calls
 * that change it (chmod, chown, truncate): the slot itself never through
 * a link (a link there is ELOOP), anything deeper following links as the
 * C library would unless nofollow. Returns it, -1 with errno, or NOT_OURS.
 */
static BENEATH int changing_slot(const char *path, int nofollow)
{
	struct devpath dp;
	struct stat st;
	int r = devpath_find(path, &dp);

	if (r == 1 && devpath_slash_ok(&dp) < 0) {
		r = -1;
	} else if (r == 1) {
		if (dp.dir == AT_FDCWD)
			nofollow = 1;
		r = sys_openat(dp.dir, dp.at, O_PATH | O_CLOEXEC | (nofollow ? O_NOFOLLOW : 0), 0);
		if (r >= 0 && dp.dir == AT_FDCWD && (sys_fstat(r, &st) < 0 || S_ISLNK(st.st_mode))) {
			close(r);
			errno = ELOOP;
			r = -1;
		}
	} else if (r == 0) {
		r = NOT_OURS;
	}
	devpath_release(&dp);
	return r;
}

static int changing(const char *path, int nofollow)
{
	return devpath_rest(path) == NULL ? NOT_OURS : changing_slot(path, nofollow);
}

static void *next_chmod, *next_fchmodat, *next_chown, *next_lchown, *next_fchownat;
static void *next_truncate;

EXPORT int chmod(const char *path, mode_t mode)
{
	int fd = changing(path, 0), r;

	if (fd == NOT_OURS)
		return PASS(next_chmod, chmod, path, mode);
	if (fd < 0)
		return -1;
	r = sys_chmod_path_fd(fd, mode);
	close_keep_errno(fd);
	return r;
}

EXPORT int fchmodat(int dir, const char *path, mode_t mode, int flags)
{
	int fd = changing(path, flags & AT_SYMLINK_NOFOLLOW), r;

	if (fd == NOT_OURS)
		return PASS(next_fchmodat, fchmodat, dir, path, mode, flags);
	if (fd < 0)
		return -1;
	r = sys_chmod_path_fd(fd, mode);
	close_keep_errno(fd);
	return r;
}

/* chown of what path beneath /dev/shm names, or NOT_OURS. */
static int chown_beneath(const char *path, uid_t uid, gid_t gid, int nofollow)
{
	int fd = changing(path, nofollow), r;

	if (fd < 0)
		return fd;
	r = (int)syscall(SYS_fchownat, fd, "", uid, gid, AT_EMPTY_PATH);
	close_keep_errno(fd);
	return r;
}

EXPORT int chown(const char *path, uid_t uid, gid_t gid)
{
	int r = chown_beneath(path, uid, gid, 0);

	return r != NOT_OURS ? r : PASS(next_chown, chown, path, uid, gid);
}

EXPORT int lchown(const char *path, uid_t uid, gid_t gid)
{
	int r = chown_beneath(path, uid, gid, 1);

	return r != NOT_OURS ? r : PASS(next_lchown, lchown, path, uid, gid);
}

EXPORT int fchownat(int dir, const char *path, uid_t uid, gid_t gid, int flags)
{
	int r = chown_beneath(path, uid, gid, flags & AT_SYMLINK_NOFOLLOW);

	return r != NOT_OURS ? r : PASS(next_fchownat, fchownat, dir, path, uid, gid, flags);
}

/*
 * truncate(2) of a FIFO or socket is EINVAL: opened without waiting for a
 * reader (O_NONBLOCK: no reader is ENXIO, as for a socket), then checked.
 */
EXPORT int truncate(const char *path, off_t len)
{
	int fd = devshm_open("truncate", path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0), r;
	struct stat st;

	if (fd == NOT_OURS)
		return PASS(next_truncate, truncate, path, len);
	if (fd < 0)
		return errno == ENXIO ? (errno = EINVAL, -1) : -1;
	if (sys_fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		r = (errno = EINVAL, -1);
	else
		r = ftruncate(fd, len);
	close_keep_errno(fd);
	return r;
}

#ifdef __GLIBC__
/*
 * glibc's names with 64 are the same functions on our 64-bit platforms;
 * renameat2 is glibc's alone.
 */
static void *next_renameat2;

EXPORT int renameat2(int fromdir, const char *from, int todir, const char *to, unsigned flags)
{
	int r = rename_beneath(from, to, flags);

	return r != NOT_OURS ? r : PASS(next_renameat2, renameat2, fromdir, from, todir, to, flags);
}

EXPORT FILE *fopen64(const char *path, const char *mode) __attribute__((alias("fopen")));
EXPORT int truncate64(const char *path, off_t len) __attribute__((alias("truncate")));
EXPORT int mkstemp64(char *tmpl) __attribute__((alias("mkstemp")));
EXPORT int mkostemp64(char *tmpl, int flags) __attribute__((alias("mkostemp")));
EXPORT int mkstemps64(char *tmpl, int suffix) __attribute__((alias("mkstemps")));
EXPORT int mkostemps64(char *tmpl, int suffix, int flags) __attribute__((alias("mkostemps")));

/*
 * The stat entry points of programs built with glibc before 2.33, which
 * called __xstat(version, ...) where newer ones call stat. glibc 2.33
 * and later keep them only for those programs (under an old symbol
 * version that dlsym does not find), so a path not beneath /dev/shm is
 * answered here as glibc answers it on our 64-bit platforms: the version
 * checked, then the kernel's fstatat, whose struct stat is the C
 * library's.
 */
int __xstat(int ver, const char *path, struct stat *buf);
int __lxstat(int ver, const char *path, struct stat *buf);
int __fxstatat(int ver, int dir, const char *path, struct stat *buf, int flags);

/* What __xstat's version argument is on this platform (<bits/stat.h> of
 * glibc before 2.33): 1 on x86_64, 0 on aarch64; 0 is the kernel's too. */
#if defined(__x86_64__)
#define XSTAT_VER_OK(v) ((v) == 0 || (v) == 1)
#else
#define XSTAT_VER_OK(v) ((v) == 0)
#endif

static int old_stat(int ver, int dir, const char *path, struct stat *buf, int flags)
{
	int r;

	if (!XSTAT_VER_OK(ver)) {
		errno = EINVAL;
		return -1;
	}
	r = devshm_stat(path, buf, flags);
	return r != NOT_OURS ? r : sys_fstatat(dir, path, buf, flags);
}

EXPORT int __xstat(int ver, const char *path, struct stat *buf)
{
	return old_stat(ver, AT_FDCWD, path, buf, 0);
}

EXPORT int __lxstat(int ver, const char *path, struct stat *buf)
{
	return old_stat(ver, AT_FDCWD, path, buf, AT_SYMLINK_NOFOLLOW);
}

EXPORT int __fxstatat(int ver, int dir, const char *path, struct stat *buf, int flags)
{
	return old_stat(ver, dir, path, buf, flags);
}

EXPORT int __xstat64(int ver, const char *path, struct stat64 *buf)
	__attribute__((alias("__xstat")));
EXPORT int __lxstat64(int ver, const char *path, struct stat64 *buf)
	__attribute__((alias("__lxstat")));
EXPORT int __fxstatat64(int ver, int dir, const char *path, struct stat64 *buf, int flags)
	__attribute__((alias("__fxstatat")));
#endif
