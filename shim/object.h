/* object.h - open and unlink of a named object's data file. */
#ifndef SHMSHIM_OBJECT_H
#define SHMSHIM_OBJECT_H

#include <sys/types.h>

#include "config.h"
#include "path.h"

/*
 * The content a new object starts with, when it must never be seen
 * without it (a semaphore): the object is written under a temporary name
 * and linked into place.
 */
struct object_init {
	const void *data;
	size_t len;
};

/*
 * shm_open's rules for oflag: read-only or read-write, and no O_TRUNC
 * with O_RDONLY. Returns 0, or -1 with errno EINVAL (and why). Checked by
 * shm_open, not by object_open: a file opened as /dev/shm/NAME (devshm.c)
 * is opened as open(2) would, write-only too.
 */
int object_check_flags(int oflag, struct refusal *why);

/*
 * shm_open's semantics for an object of the given kind under cf's root:
 * returns a descriptor or -1 with errno. init, when not NULL, is the
 * content of a newly created object. *path, made with path_init,
 * receives the object's files (path->data stays "" when the name was
 * invalid); path_release it afterwards. why (may be NULL) receives the
 * reason when a check of the shim's refuses the call.
 */
int object_open(const struct config *cf, enum obj_kind kind, const char *name,
		int oflag, mode_t mode, const struct object_init *init,
		struct obj_path *path, struct refusal *why);

/* shm_unlink's semantics: returns 0 or -1 with errno. */
int object_unlink(const struct config *cf, enum obj_kind kind,
		  const char *name, struct obj_path *path, struct refusal *why);

#endif
