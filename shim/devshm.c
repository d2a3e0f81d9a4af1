/*
 * devshm.c - /dev/shm as a whole: the file calls programs make on paths
 * beneath /dev/shm, interposed, so that /dev/shm/NAME is the shared memory
 * object /NAME (the file shm_open("/NAME") uses, <root>/.SHMDNAME), and
 * whatever else is made beneath /dev/shm lives in the same place
 * (devpath.c has the layout; devdir.c the other calls).
 *
 * Some programs make their shared memory as files in /dev/shm themselves
 * rather than with shm_open: CPython's multiprocessing heap (Value, Array,
 * Barrier) checks os.statvfs("/dev/shm") and makes a temporary file
 * there; Open MPI's vader transport makes its segment there. Under the
 * shim they must find the same place as shm_open, or they fail where
 * /dev/shm is missing or full even though the objects of shm_open do not.
 * So open (every name a program may bind to: open64, the openat pair, the
 * _FORTIFY_SOURCE entry points, creat), unlink, unlinkat and remove of
 * /dev/shm/NAME are shm_open's and shm_unlink's work on /NAME, with open's
 * flags otherwise (write-only allowed, close-on-exec only when asked),
 * when a regular file or nothing is there; a directory or socket there,
 * and anything deeper, is the kernel's work in its place under the root.
 * The stat family and access describe what stands for the path; statvfs
 * and statfs of /dev/shm or anything in it describe the root's file
 * system. Any other path, a relative one, and a first name "." or ".."
 * goes to the next definition, the C library's (next.c), untouched: the
 * check costs a few compares. SHMSHIM_DEVSHM=native turns all of this
 * off. The shim's own file calls are system calls (sysfile.h), so they
 * never come back in here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "devpath.h"
#include "devshm.h"
#include "next.h"
#include "object.h"
#include "sysfile.h"

/*
 * The mode argument of an open that creates, after flags. (clang-tidy 14
 * does not see the va_start here; each use carries a NOLINT for it.)
 */
#define OPEN_MODE(flags, mode)                                                  \
	do {                                                                    \
		va_list ap_;                                                    \
		(mode) = 0;                                                     \
		if ((flags) & O_CREAT || ((flags) & O_TMPFILE) == O_TMPFILE) { \
			va_start(ap_, flags);                                   \
			(mode) = va_arg(ap_, mode_t);                           \
			va_end(ap_);                                            \
		}                                                               \
	} while (0)

/* Gives fd the flags of open(2) the object path does not: close-on-exec
 * only when asked, O_APPEND and O_NONBLOCK when asked. */
static int open_flags(int fd, int flags)
{
	int fl;

	if (!(flags & O_CLOEXEC) && fcntl(fd, F_SETFD, 0) < 0)
		goto fail;
	if (flags & (O_APPEND | O_NONBLOCK)) {
		fl = fcntl(fd, F_GETFL);
		if (fl < 0 || fcntl(fd, F_SETFL, fl | (flags & (O_APPEND | O_NONBLOCK))) < 0)
			goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

/*
 * open(path, flags, mode) of /dev/shm/NAME: the object "/NAME". NOT_OURS
 * when something other than a regular file is in the object's slot (a
 * directory, say): that is opened as the C library would (open_slot).
 */
static int open_object(const char *call, const char *path, const char *name, int flags,
		       mode_t mode)
{
	const struct config *cf = config_get();
	struct obj_path obj;
	struct refusal why = { NULL, 0 };
	struct stat st;
	int state = api_cancel_off(), fd, saved;

	path_init(&obj);
	fd = api_root_usable(cf, &why) < 0
		? -1 : object_open(cf, KIND_SHM, name, flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC),
				   mode, NULL, &obj, &why);
	if (fd >= 0)
		fd = open_flags(fd, flags);
	saved = errno;
	if (fd < 0 && saved == EINVAL && *obj.data != '\0' &&
	    sys_fstatat(AT_FDCWD, obj.data, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		fd = NOT_OURS; /* a directory, a socket: a link stays refused */
	} else {
		errno = saved;
		api_trace(call, path, flags, mode, &obj, &why, fd);
	}
	path_release(&obj);
	api_cancel_restore(state);
	return fd;
}

/*
 * open of anything else beneath /dev/shm, in its place under the root
 * (devpath.h): the slot itself is never followed as a link.
 */
static int open_slot(const char *path, int flags, mode_t mode)
{
	struct devpath dp;
	int fd = devpath_find(path, &dp);

	if (fd == 1 && devpath_slash_ok(&dp) < 0)
		fd = -1;
	else if (fd == 1)
		fd = sys_openat(dp.dir, dp.at, flags | (dp.dir == AT_FDCWD ? O_NOFOLLOW : 0), mode);
	else if (fd == 0)
		fd = NOT_OURS;
	devpath_release(&dp);
	return fd;
}

static BENEATH int open_beneath(const char *call, const char *path, int flags, mode_t mode)
{
	char name[NAME_MAX + 2];

	if (!(flags & (O_DIRECTORY | O_PATH)) && devpath_object(path, name) != NULL) {
		int fd = open_object(call, path, name, flags, mode);

		if (fd != NOT_OURS)
			return fd;
	}
	return open_slot(path, flags, mode);
}

int devshm_open(const char *call, const char *path, int flags, mode_t mode)
{
	return devpath_rest(path) == NULL ? NOT_OURS : open_beneath(call, path, flags, mode);
}

static void *next_open, *next_openat, *next_creat;
static void *next_unlink, *next_unlinkat, *next_statvfs, *next_statfs;

/* Calls the next definition of fn, or fails with ENOSYS if there is none. */
#define PASS(cache, fn, ...) \
	(NEXT(cache, fn) ? NEXT(cache, fn)(__VA_ARGS__) : -1)

EXPORT int open(const char *path, int flags, ...)
{
	mode_t mode;
	int fd;

	OPEN_MODE(flags, mode); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	fd = devshm_open("open", path, flags, mode);
	return fd != NOT_OURS ? fd : PASS(next_open, open, path, flags, mode);
}

EXPORT int openat(int dir, const char *path, int flags, ...)
{
	mode_t mode;
	int fd;

	OPEN_MODE(flags, mode); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	fd = devshm_open("openat", path, flags, mode);
	return fd != NOT_OURS ? fd : PASS(next_openat, openat, dir, path, flags, mode);
}

EXPORT int creat(const char *path, mode_t mode)
{
	int fd = devshm_open("creat", path, O_CREAT | O_WRONLY | O_TRUNC, mode);

	return fd != NOT_OURS ? fd : PASS(next_creat, creat, path, mode);
}

/*
 * unlinkat(path, flags) beneath /dev/shm, or NOT_OURS. /dev/shm/NAME is
 * shm_unlink("/NAME") when a regular file (or nothing) is in its slot;
 * whatever else is there (a socket, a directory), and anything deeper, is
 * removed as the C library would.
 */
static BENEATH int unlink_slot(const char *call, const char *path, int flags)
{
	char name[NAME_MAX + 2];
	struct devpath dp;
	struct stat st;
	bool object;
	int r = devpath_find(path, &dp);

	if (r == 1 && !(flags & AT_REMOVEDIR) && devpath_slash_ok(&dp) < 0)
		r = -1; /* unlink("file/") */
	object = !(flags & AT_REMOVEDIR) && devpath_object(path, name) != NULL;
	/* A long name has no slot of its own (ENAMETOOLONG): only an object. */
	if (object && ((r == 1 && (sys_fstatat(AT_FDCWD, dp.at, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
				   S_ISREG(st.st_mode))) ||
		       (r < 0 && errno == ENAMETOOLONG)))
		r = api_unlink(call, KIND_SHM, name);
	else if (r == 1)
		r = sys_unlinkat(dp.dir, dp.at, flags);
	else if (r == 0)
		r = NOT_OURS;
	devpath_release(&dp);
	return r;
}

static int unlink_beneath(const char *call, const char *path, int flags)
{
	return devpath_rest(path) == NULL ? NOT_OURS : unlink_slot(call, path, flags);
}

EXPORT int unlink(const char *path)
{
	int r = unlink_beneath("unlink", path, 0);

	return r != NOT_OURS ? r : PASS(next_unlink, unlink, path);
}

EXPORT int unlinkat(int dir, const char *path, int flags)
{
	int r = unlink_beneath("unlinkat", path, flags);

	return r != NOT_OURS ? r : PASS(next_unlinkat, unlinkat, dir, path, flags);
}

/* remove(3): unlink, or rmdir for a directory (the C library's remove
 * calls neither through the names we interpose). */
static void *next_remove;

EXPORT int remove(const char *path)
{
	int r = unlink_beneath("remove", path, 0);

	if (r < 0 && r != NOT_OURS && errno == EISDIR)
		r = unlink_beneath("remove", path, AT_REMOVEDIR);
	return r != NOT_OURS ? r : PASS(next_remove, remove, path);
}

/* The root, for the questions about /dev/shm's file system. */
static const char *root_for(const char *path)
{
	const struct config *cf = config_get();

	if (devpath_rest(path) == NULL || cf->root_error)
		return path;
	return *cf->root ? cf->root : "/";
}

EXPORT int statvfs(const char *path, struct statvfs *buf)
{
	return PASS(next_statvfs, statvfs, root_for(path), buf);
}

EXPORT int statfs(const char *path, struct statfs *buf)
{
	return PASS(next_statfs, statfs, root_for(path), buf);
}

/*
 * Where a question about path (stat, access) goes, as arguments for an
 * *at call in dp: the root for /dev/shm itself, the object's file for
 * /dev/shm/NAME (*nofollow then AT_SYMLINK_NOFOLLOW: a link planted there
 * is described, not followed), the place under the root of anything
 * deeper (devpath.h). Returns 1, 0 when the C library takes the call, or
 * -1 with errno. devpath_release dp afterwards.
 */
static int question_for(const char *path, struct devpath *dp, int *nofollow)
{
	const struct config *cf = config_get();
	const char *rest = devpath_rest(path);

	dp->dir = AT_FDCWD;
	path_init(&dp->obj);
	*nofollow = 0;
	if (rest == NULL || cf->root_error)
		return 0;
	if (*rest == '\0' || strcmp(rest, ".") == 0) {
		dp->at = *cf->root ? cf->root : "/";
		return 1;
	}
	if (devpath_object(path, dp->name) == NULL) {
		int r = devpath_find(path, dp);

		return r == 1 && devpath_slash_ok(dp) < 0 ? -1 : r;
	}
	if (path_for_name(cf->root, cf->rules, cf->name_max, KIND_SHM, dp->name, &dp->obj) != 0)
		return 0;
	dp->at = dp->obj.data;
	*nofollow = AT_SYMLINK_NOFOLLOW;
	return 1;
}

static BENEATH int stat_beneath(const char *path, struct stat *buf, int flags)
{
	struct devpath dp;
	int nofollow, r = question_for(path, &dp, &nofollow);

	if (r == 1)
		r = sys_fstatat(dp.dir, dp.at, buf, flags | nofollow);
	else if (r == 0)
		r = NOT_OURS;
	devpath_release(&dp);
	return r;
}

int devshm_stat(const char *path, struct stat *buf, int flags)
{
	/* The common case, first and cheap. */
	return devpath_rest(path) == NULL ? NOT_OURS : stat_beneath(path, buf, flags);
}

static void *next_stat, *next_lstat, *next_fstatat, *next_faccessat;

EXPORT int stat(const char *path, struct stat *buf)
{
	int r = devshm_stat(path, buf, 0);

	return r != NOT_OURS ? r : PASS(next_stat, stat, path, buf);
}

EXPORT int lstat(const char *path, struct stat *buf)
{
	int r = devshm_stat(path, buf, AT_SYMLINK_NOFOLLOW);

	return r != NOT_OURS ? r : PASS(next_lstat, lstat, path, buf);
}

EXPORT int fstatat(int dir, const char *path, struct stat *buf, int flags)
{
	int r = devshm_stat(path, buf, flags & AT_SYMLINK_NOFOLLOW);

	return r != NOT_OURS ? r : PASS(next_fstatat, fstatat, dir, path, buf, flags);
}

static BENEATH int faccessat_beneath(int dir, const char *path, int mode, int flags)
{
	struct devpath dp;
	int nofollow, r = question_for(path, &dp, &nofollow);

	if (r == 1)
		r = PASS(next_faccessat, faccessat, dp.dir, dp.at, mode, flags | nofollow);
	else if (r == 0)
		r = PASS(next_faccessat, faccessat, dir, path, mode, flags);
	devpath_release(&dp);
	return r;
}

EXPORT int faccessat(int dir, const char *path, int mode, int flags)
{
	if (devpath_rest(path) == NULL)
		return PASS(next_faccessat, faccessat, dir, path, mode, flags);
	return faccessat_beneath(dir, path, mode, flags);
}

EXPORT int access(const char *path, int mode)
{
	return faccessat(AT_FDCWD, path, mode, 0);
}

/*
 * glibc also has the _FORTIFY_SOURCE entry points, which no header
 * declares, and the names with 64, which programs built with large-file
 * support bind to. On the 64-bit platforms we support those are the same
 * functions as the names without (glibc makes them aliases), so ours are
 * aliases too; statvfs64 and statfs64 take their own struct types. musl
 * has none of the first, and makes the second macros for the names above.
 */
#ifdef __GLIBC__
int __open_2(const char *path, int flags);
int __openat_2(int dir, const char *path, int flags);

static void *next_open_2, *next_openat_2, *next_statvfs64, *next_statfs64;

EXPORT int __open_2(const char *path, int flags)
{
	int fd = devshm_open("open", path, flags, 0);

	return fd != NOT_OURS ? fd : PASS(next_open_2, __open_2, path, flags);
}

EXPORT int __openat_2(int dir, const char *path, int flags)
{
	int fd = devshm_open("openat", path, flags, 0);

	return fd != NOT_OURS ? fd : PASS(next_openat_2, __openat_2, dir, path, flags);
}

EXPORT int open64(const char *path, int flags, ...) __attribute__((alias("open")));
EXPORT int openat64(int dir, const char *path, int flags, ...) __attribute__((alias("openat")));
EXPORT int __open64_2(const char *path, int flags) __attribute__((alias("__open_2")));
EXPORT int __openat64_2(int dir, const char *path, int flags) __attribute__((alias("__openat_2")));
EXPORT int creat64(const char *path, mode_t mode) __attribute__((alias("creat")));

static void *next_statx;

EXPORT int stat64(const char *path, struct stat64 *buf)
{
	return stat(path, (struct stat *)buf);
}

EXPORT int lstat64(const char *path, struct stat64 *buf)
{
	return lstat(path, (struct stat *)buf);
}

EXPORT int fstatat64(int dir, const char *path, struct stat64 *buf, int flags)
{
	return fstatat(dir, path, (struct stat *)buf, flags);
}

static BENEATH int statx_beneath(int dir, const char *path, int flags, unsigned mask,
				 struct statx *buf)
{
	struct devpath dp;
	int nofollow, r = question_for(path, &dp, &nofollow);

	if (r == 1)
		r = (int)syscall(SYS_statx, dp.dir, dp.at, flags | nofollow, mask, buf);
	else if (r == 0)
		r = PASS(next_statx, statx, dir, path, flags, mask, buf);
	devpath_release(&dp);
	return r;
}

EXPORT int statx(int dir, const char *path, int flags, unsigned mask, struct statx *buf)
{
	if (devpath_rest(path) == NULL)
		return PASS(next_statx, statx, dir, path, flags, mask, buf);
	return statx_beneath(dir, path, flags, mask, buf);
}

EXPORT int statvfs64(const char *path, struct statvfs64 *buf)
{
	return PASS(next_statvfs64, statvfs64, root_for(path), buf);
}

EXPORT int statfs64(const char *path, struct statfs64 *buf)
{
	return PASS(next_statfs64, statfs64, root_for(path), buf);
}
#endif
