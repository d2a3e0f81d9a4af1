/* devpath.h - where a path beneath /dev/shm lives under the root. */
#ifndef SHMSHIM_DEVPATH_H
#define SHMSHIM_DEVPATH_H

#include <limits.h>

#include "path.h"

/*
 * What follows "/dev/shm" in path, an absolute path naming /dev/shm or
 * something in it: "" for /dev/shm itself, else the rest without its
 * leading slashes. NULL for any other path, and when SHMSHIM_DEVSHM is
 * native. Cheap for the paths it does not take: most differ at once.
 */
const char *devpath_rest(const char *path);

/*
 * The name of the object path stands for ("/NAME" in out), when path is
 * /dev/shm/NAME with one name, not "." or ".."; else NULL. A name longer
 * than NAME_MAX is cut one byte past it, so that the name checks refuse it
 * with ENAMETOOLONG.
 */
const char *devpath_object(const char *path, char out[NAME_MAX + 2]);

/*
 * A place beneath /dev/shm that is not an object's data as such: a
 * directory, a socket, anything deeper, as arguments for an *at call.
 * /dev/shm/NAME is the object's slot <root>/.SHMDNAME (dir AT_FDCWD),
 * whatever is there; /dev/shm/NAME/REST is REST in that slot, opened as a
 * directory that is not a link (so that nobody can send the call through
 * a link planted at the slot).
 */
struct devpath {
	int dir;
	const char *at;
	int slash; /* the slot itself, named with a trailing slash */
	struct obj_path obj;
	char name[NAME_MAX + 2];
};

/*
 * Finds where path lives (see struct devpath). Returns 1 when path is
 * ours, 0 when it is not (not beneath /dev/shm, /dev/shm itself, a first
 * name "." or "..", a ".." anywhere after it, which could lead out of the
 * slot: the C library takes the call), -1 with errno when it
 * is ours but cannot be (the root unusable, ENAMETOOLONG for a name too
 * long to have a slot of its own, the slot missing or not a directory).
 * Call devpath_release afterwards, whatever the result.
 */
int devpath_find(const char *path, struct devpath *dp);

/* Whether devpath_find would take path (a cheap check, nothing opened). */
int devpath_ours(const char *path);

/*
 * 0 when dp names a directory or was not named with a trailing slash;
 * else -1 with errno ENOTDIR (or the slot's lstat error), as the kernel
 * answers a trailing slash after a file.
 */
int devpath_slash_ok(const struct devpath *dp);

/* Closes and frees what devpath_find opened. Keeps errno. */
void devpath_release(struct devpath *dp);

#endif
