/* path.h - where the files of a named object live. */
#ifndef SHMSHIM_PATH_H
#define SHMSHIM_PATH_H

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "md5.h"
#include "name.h"

/* Length of a type prefix such as ".SHMD". */
#define PREFIX_LEN 5

/*
 * Room for the paths of an object without allocating: with /tmp as the
 * root, enough for names up to 150 bytes. Longer ones are allocated
 * (path_release frees them). Kept small because a struct obj_path lives
 * on the caller's stack, and a thread may call with the smallest stack
 * its C library allows (musl: 2 KiB).
 */
#define PATH_SPACE 512

struct obj_path {
	enum obj_kind kind;
	bool hashed;                /* long name: <root>/.<md5>/.SHMD/<name> */
	const char *root;           /* the root, no trailing slash ("" is "/") */
	const char *data;           /* path of the data file; "" unmapped */
	const char *lock;           /* path of the lock file */
	const char *temp;           /* where a new object is prepared */
	const char *hash_dir;       /* hashed: <root>/.<md5>; flat: "" */
	const char *data_parent;    /* hashed: <root>/.<md5>/.SHMD; flat: "" */
	char data_sub[PREFIX_LEN + 1]; /* hashed: ".SHMD", inside hash_dir */
	char lock_sub[PREFIX_LEN + 1]; /* hashed: ".SHML", inside hash_dir */
	const char *leaf;           /* the bare name */
	char *heap;                 /* the paths when space is too small */
	char space[PATH_SPACE];
};

/*
 * Why the shim itself refused a call (a check of its own, not the system's
 * answer), for the SHMSHIM_DEBUG line: the reason and the errno it gave.
 * Recorded where the decision is made; reported only if the call ends
 * with that errno, so that a refusal a later step got past is not blamed.
 */
struct refusal {
	const char *why;
	int err;
};

/* Records why (r may be NULL: nobody asked) and sets errno to err; -1. */
static inline int refuse(struct refusal *r, int err, const char *why)
{
	if (r != NULL) {
		r->why = why;
		r->err = err;
	}
	errno = err;
	return -1;
}

/* The prefix of a kind's data or lock files: ".SHMD", ".SEML", ... */
void path_prefix(enum obj_kind kind, bool lock, char out[PREFIX_LEN + 1]);

/* Makes p an empty mapping: every path "". */
void path_init(struct obj_path *p);

/* Frees what a mapping allocated; the paths are "" afterwards. */
void path_release(struct obj_path *p);

/*
 * Maps the bare name (already checked by name_check, len bytes, no NUL
 * needed beyond it) under root to its files. root has no trailing slash
 * (the empty string stands for "/"). Returns 0, ENAMETOOLONG when a path
 * would not fit in PATH_MAX, or ENOMEM. The result's leaf points into
 * bare. Call path_release afterwards, whatever the result.
 */
int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out);

/*
 * Checks name (see name_check) and maps it. Returns 0 or an errno value.
 * Call path_release afterwards, whatever the result.
 */
int path_for_name(const char *root, enum name_rules rules, size_t name_max,
		  enum obj_kind kind, const char *name, struct obj_path *out);

#endif
