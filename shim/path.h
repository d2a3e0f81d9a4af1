/* path.h - where the files of a named object live. */
#ifndef SHMSHIM_PATH_H
#define SHMSHIM_PATH_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "md5.h"
#include "name.h"

enum obj_kind {
	KIND_SHM, /* shared memory: .SHMD / .SHML */
	KIND_SEM, /* semaphores: .SEMD / .SEML */
};

/* Length of a type prefix such as ".SHMD". */
#define PREFIX_LEN 5

struct obj_path {
	bool hashed;                /* long name: <root>/.<md5>/.SHMD/<name> */
	char data[PATH_MAX];        /* path of the data file */
	char lock[PATH_MAX];        /* path of the lock file */
	/* Only when hashed: */
	char hash_dir[PATH_MAX];    /* <root>/.<md5> */
	char data_sub[PREFIX_LEN + 1]; /* ".SHMD", inside hash_dir */
	char lock_sub[PREFIX_LEN + 1]; /* ".SHML", inside hash_dir */
	const char *leaf;           /* the bare name, file name in the subs */
};

/* The prefix of a kind's data or lock files: ".SHMD", ".SEML", ... */
void path_prefix(enum obj_kind kind, bool lock, char out[PREFIX_LEN + 1]);

/*
 * Maps the bare name (already checked by name_check, len bytes, no NUL
 * needed beyond it) under root to its files. root has no trailing slash
 * (the empty string stands for "/"). Returns 0, or ENAMETOOLONG when a
 * path would not fit in PATH_MAX. The result's leaf points into bare.
 */
int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out);

/*
 * Checks name (see name_check) and maps it. Returns 0 or an errno value.
 */
int path_for_name(const char *root, enum name_rules rules, size_t name_max,
		  enum obj_kind kind, const char *name, struct obj_path *out);

#endif
