/*
 * devpath.c - where a path beneath /dev/shm lives under the root.
 *
 * The layout (README, "/dev/shm itself"): /dev/shm/NAME is the file of the
 * shared memory object /NAME, <root>/.SHMDNAME, and that same name, the
 * object's slot, holds whatever else a program makes as /dev/shm/NAME: a
 * directory, a socket. /dev/shm/NAME/REST is REST inside it. So the
 * namespace is one, as in /dev/shm: a name is a file or a directory, not
 * both, and shmclean finds everything by the prefix. A name too long for
 * a slot of its own (one the object layout hashes) is ENAMETOOLONG for
 * anything but an object.
 *
 * Safety in a shared root: the slot itself is never followed as a link
 * (every *at call below it goes through a descriptor of the slot opened
 * with O_NOFOLLOW), which is what fs.protected_symlinks does for
 * /dev/shm's sticky directory; deeper down, the program's own directories
 * protect it as they do in /dev/shm. bind and connect, which have no *at
 * forms, name the place by path (devdir.c): there it is that setting's
 * to guard, as in /dev/shm. A ".." after the first name could lead out of
 * the slot: such a path is the C library's.
 */
#define _GNU_SOURCE
#include "devpath.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "sysfile.h"

#define DEV_SHM "/dev/shm"
#define DEV_SHM_LEN (sizeof DEV_SHM - 1)

const char *devpath_rest(const char *path)
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

/* Whether the first len bytes of s are "." or "..". */
static int dots(const char *s, size_t len)
{
	return (len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.');
}

/* "/NAME" in out from the len bytes at name; cut past NAME_MAX (see .h). */
static const char *object_name(const char *name, size_t len, char out[NAME_MAX + 2])
{
	if (len > NAME_MAX)
		len = NAME_MAX + 1;
	out[0] = '/';
	memcpy(out + 1, name, len);
	out[len + 1] = '\0';
	return out;
}

const char *devpath_object(const char *path, char out[NAME_MAX + 2])
{
	const char *name = devpath_rest(path);
	size_t len;

	if (name == NULL || *name == '\0' || strchr(name, '/') != NULL)
		return NULL;
	len = strlen(name);
	return dots(name, len) ? NULL : object_name(name, len, out);
}

/* Whether s, after the first name, has a ".." component. */
static int has_dotdot(const char *s)
{
	for (; (s = strstr(s, "..")) != NULL; s += 2)
		if (s[-1] == '/' && (s[2] == '/' || s[2] == '\0'))
			return 1;
	return 0;
}

int devpath_ours(const char *path)
{
	const char *rest = devpath_rest(path);
	size_t len;

	if (rest == NULL || *rest == '\0')
		return 0;
	len = strcspn(rest, "/");
	return !dots(rest, len) && !has_dotdot(rest + len);
}

int devpath_slash_ok(const struct devpath *dp)
{
	struct stat st;

	if (!dp->slash)
		return 0;
	if (sys_fstatat(AT_FDCWD, dp->at, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (S_ISDIR(st.st_mode))
		return 0;
	errno = ENOTDIR;
	return -1;
}

int devpath_find(const char *path, struct devpath *dp)
{
	const struct config *cf = config_get();
	const char *rest = devpath_rest(path);
	size_t len;
	int err;

	dp->dir = AT_FDCWD;
	dp->at = NULL;
	dp->slash = 0;
	path_init(&dp->obj);
	if (!devpath_ours(path))
		return 0;
	len = strcspn(rest, "/");
	if (cf->root_error) {
		errno = cf->root_error;
		return -1;
	}
	object_name(rest, len, dp->name);
	err = path_for_name(cf->root, cf->rules, cf->name_max, KIND_SHM, dp->name, &dp->obj);
	if (err == 0 && dp->obj.hashed)
		err = ENAMETOOLONG;
	if (err != 0) {
		errno = err;
		return -1;
	}
	dp->at = dp->obj.data;
	rest += len;
	while (*rest == '/')
		rest++;
	if (*rest == '\0') {
		dp->slash = rest[-1] == '/'; /* the slot itself, a trailing slash dropped */
		return 1;
	}
	dp->dir = sys_openat(AT_FDCWD, dp->obj.data, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC, 0);
	if (dp->dir < 0)
		return -1;
	dp->at = rest;
	return 1;
}

void devpath_release(struct devpath *dp)
{
	int saved = errno;

	if (dp->dir >= 0)
		close(dp->dir);
	dp->dir = AT_FDCWD;
	path_release(&dp->obj);
	errno = saved;
}
