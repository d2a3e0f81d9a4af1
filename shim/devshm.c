/*
 * devshm.c - /dev/shm as a whole: the file calls programs make on paths
 * beneath /dev/shm, interposed, so that /dev/shm/NAME is the shared memory
 * object /NAME (the file shm_open("/NAME") uses, <root>/.SHMDNAME).
 *
 * Some programs make their shared memory as files in /dev/shm themselves
 * rather than with shm_open: CPython's multiprocessing heap (Value, Array,
 * Barrier) checks os.statvfs("/dev/shm") and makes a temporary file
 * there. Under the shim they must find the same place as shm_open, or
 * they fail where /dev/shm is missing or full even though the objects of
 * shm_open do not. So open (every name a program may bind to: open64, the
 * openat pair, the _FORTIFY_SOURCE entry points, creat), unlink and
 * unlinkat of /dev/shm/NAME are shm_open's and shm_unlink's work on /NAME,
 * with open's flags otherwise (write-only allowed, close-on-exec only when
 * asked); statvfs and statfs of /dev/shm or anything in it describe the
 * root's file system. Any other path, a relative one, and anything deeper
 * than one name below /dev/shm goes to the next definition, the C
 * library's (next.c), untouched: the check costs a few compares.
 * SHMSHIM_DEVSHM=native turns all of this off. The shim's own file calls
 * are system calls (sysfile.h), so they never come back in here.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "next.h"
#include "object.h"
#include "sysfile.h"

#define DEV_SHM "/dev/shm"
#define DEV_SHM_LEN (sizeof DEV_SHM - 1)

/*
 * What follows "/dev/shm" in path, an absolute path naming /dev/shm or
 * something in it: "" for /dev/shm itself, else the rest without its
 * leading slashes. NULL for any other path, and when SHMSHIM_DEVSHM is
 * native. Cheap for the paths it does not take: most differ at once.
 */
static const char *beneath(const char *path)
{
	if (path == NULL || path[0] != '/' || path[1] != 'd' ||
	    strncmp(path, DEV_SHM, DEV_SHM_LEN) != 0 ||
	    (path[DEV_SHM_LEN] != '/' && path[DEV_SHM_LEN] != '\0') ||
	    !config_get()->devshm)
		return NULL;
	path += DEV_SHM_LEN;
	while (*path == '/')
		path++;
	return path;
}

/*
 * The name of the object path stands for ("/NAME" in out), when path is
 * /dev/shm/NAME with one name, not "." or ".."; else NULL: the C library
 * takes the call, as it does for a deeper path or a trailing slash. A name
 * longer than NAME_MAX is cut one byte past it, so that the name checks
 * refuse it with ENAMETOOLONG.
 */
static const char *object_of(const char *path, char out[NAME_MAX + 2])
{
	const char *name = beneath(path);
	size_t len;

	if (name == NULL || *name == '\0' || strcmp(name, ".") == 0 || strcmp(name, "..") == 0 ||
	    strchr(name, '/') != NULL)
		return NULL;
	len = strlen(name);
	if (len > NAME_MAX)
		len = NAME_MAX + 1; /* too long: the name checks say so */
	out[0] = '/';
	memcpy(out + 1, name, len);
	out[len + 1] = '\0';
	return out;
}

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

/* open(path, flags, mode) of /dev/shm/NAME: the object "/NAME". */
static int open_object(const char *call, const char *path, const char *name, int flags,
		       mode_t mode)
{
	const struct config *cf = config_get();
	struct obj_path obj;
	struct refusal why = { NULL, 0 };
	int state = api_cancel_off(), fd;

	path_init(&obj);
	fd = api_root_usable(cf, &why) < 0
		? -1 : object_open(cf, KIND_SHM, name, flags & (O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC),
				   mode, NULL, &obj, &why);
	if (fd >= 0)
		fd = open_flags(fd, flags);
	api_trace(call, path, flags, mode, &obj, &why, fd);
	path_release(&obj);
	api_cancel_restore(state);
	return fd;
}

static void *next_open, *next_openat, *next_creat;
static void *next_unlink, *next_unlinkat, *next_statvfs, *next_statfs;

/* Calls the next definition of fn, or fails with ENOSYS if there is none. */
#define PASS(cache, fn, ...) \
	(NEXT(cache, fn) ? NEXT(cache, fn)(__VA_ARGS__) : -1)

EXPORT int open(const char *path, int flags, ...)
{
	char name[NAME_MAX + 2];
	mode_t mode;

	OPEN_MODE(flags, mode); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	if (object_of(path, name) == NULL)
		return PASS(next_open, open, path, flags, mode);
	return open_object("open", path, name, flags, mode);
}

EXPORT int openat(int dir, const char *path, int flags, ...)
{
	char name[NAME_MAX + 2];
	mode_t mode;

	OPEN_MODE(flags, mode); /* NOLINT(clang-analyzer-valist.Uninitialized) */
	if (object_of(path, name) == NULL)
		return PASS(next_openat, openat, dir, path, flags, mode);
	return open_object("openat", path, name, flags, mode);
}

EXPORT int creat(const char *path, mode_t mode)
{
	char name[NAME_MAX + 2];

	if (object_of(path, name) == NULL)
		return PASS(next_creat, creat, path, mode);
	return open_object("creat", path, name, O_CREAT | O_WRONLY | O_TRUNC, mode);
}

EXPORT int unlink(const char *path)
{
	char name[NAME_MAX + 2];

	if (object_of(path, name) == NULL)
		return PASS(next_unlink, unlink, path);
	return api_unlink("unlink", KIND_SHM, name);
}

EXPORT int unlinkat(int dir, const char *path, int flags)
{
	char name[NAME_MAX + 2];

	if ((flags & AT_REMOVEDIR) || object_of(path, name) == NULL)
		return PASS(next_unlinkat, unlinkat, dir, path, flags);
	return api_unlink("unlinkat", KIND_SHM, name);
}

/* The root, for the questions about /dev/shm's file system. */
static const char *root_for(const char *path)
{
	const struct config *cf = config_get();

	if (beneath(path) == NULL || cf->root_error)
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
 * The file that stands for path in a question about it (stat, access):
 * the root for /dev/shm itself, the object's file for /dev/shm/NAME (its
 * paths in *obj, which the caller releases), else NULL: the C library
 * takes the call. *nofollow is AT_SYMLINK_NOFOLLOW for an object's file:
 * a link planted there is described, not followed.
 */
static const char *standing_for(const char *path, struct obj_path *obj, int *nofollow)
{
	const struct config *cf = config_get();
	char name[NAME_MAX + 2];
	const char *rest = beneath(path);

	path_init(obj);
	*nofollow = 0;
	if (rest == NULL || cf->root_error)
		return NULL;
	if (*rest == '\0' || strcmp(rest, ".") == 0)
		return *cf->root ? cf->root : "/";
	if (object_of(path, name) == NULL ||
	    path_for_name(cf->root, cf->rules, cf->name_max, KIND_SHM, name, obj) != 0)
		return NULL;
	*nofollow = AT_SYMLINK_NOFOLLOW;
	return obj->data;
}

/* fstatat of what stands for path (see standing_for), or -2: not ours. */
static int stat_standing(const char *path, struct stat *buf, int flags)
{
	struct obj_path obj;
	int nofollow, r = -2;
	const char *file;

	if (beneath(path) == NULL)
		return -2; /* the common case, first and cheap */
	file = standing_for(path, &obj, &nofollow);
	if (file != NULL)
		r = sys_fstatat(AT_FDCWD, file, buf, flags | nofollow);
	path_release(&obj);
	return r;
}

static void *next_stat, *next_lstat, *next_fstatat, *next_faccessat;

EXPORT int stat(const char *path, struct stat *buf)
{
	int r = stat_standing(path, buf, 0);

	return r != -2 ? r : PASS(next_stat, stat, path, buf);
}

EXPORT int lstat(const char *path, struct stat *buf)
{
	int r = stat_standing(path, buf, AT_SYMLINK_NOFOLLOW);

	return r != -2 ? r : PASS(next_lstat, lstat, path, buf);
}

EXPORT int fstatat(int dir, const char *path, struct stat *buf, int flags)
{
	int r = stat_standing(path, buf, flags & AT_SYMLINK_NOFOLLOW);

	return r != -2 ? r : PASS(next_fstatat, fstatat, dir, path, buf, flags);
}

EXPORT int faccessat(int dir, const char *path, int mode, int flags)
{
	struct obj_path obj;
	int nofollow, r;
	const char *file;

	if (beneath(path) == NULL)
		return PASS(next_faccessat, faccessat, dir, path, mode, flags);
	file = standing_for(path, &obj, &nofollow);
	r = PASS(next_faccessat, faccessat, file ? AT_FDCWD : dir, file ? file : path, mode, flags);
	path_release(&obj);
	return r;
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
	char name[NAME_MAX + 2];

	if (object_of(path, name) == NULL)
		return PASS(next_open_2, __open_2, path, flags);
	return open_object("open", path, name, flags, 0);
}

EXPORT int __openat_2(int dir, const char *path, int flags)
{
	char name[NAME_MAX + 2];

	if (object_of(path, name) == NULL)
		return PASS(next_openat_2, __openat_2, dir, path, flags);
	return open_object("openat", path, name, flags, 0);
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

EXPORT int statx(int dir, const char *path, int flags, unsigned mask, struct statx *buf)
{
	struct obj_path obj;
	int nofollow, r;
	const char *file;

	if (beneath(path) == NULL)
		return PASS(next_statx, statx, dir, path, flags, mask, buf);
	file = standing_for(path, &obj, &nofollow);
	r = file != NULL ? (int)syscall(SYS_statx, AT_FDCWD, file, flags | nofollow, mask, buf)
			 : PASS(next_statx, statx, dir, path, flags, mask, buf);
	path_release(&obj);
	return r;
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
