/* name.h - the rules for POSIX object names. */
#ifndef SHMSHIM_NAME_H
#define SHMSHIM_NAME_H

#include <stdbool.h>
#include <stddef.h>

enum obj_kind {
	KIND_SHM, /* shared memory: .SHMD / .SHML */
	KIND_SEM, /* semaphores: .SEMD / .SEML */
};

enum name_rules {
	NAME_STRICT, /* illumos: exactly one leading '/', nothing else '/' */
	NAME_GLIBC,  /* glibc: any number of leading '/' */
};

/*
 * Checks the name of an object of the given kind under the given rules.
 * On success stores in *bare the name without its leading slashes (a
 * pointer into name), its length in *len, and returns 0. Otherwise
 * returns an errno value: EINVAL for a malformed name, ENAMETOOLONG when
 * the bare name is longer than name_max; under glibc's rules also glibc's
 * own limits (see name.c), and EISDIR for a shared memory object named
 * "." or "..", which glibc's file would be a directory. What a call
 * answers for each is the caller's to say (glibc: EINVAL from the opens,
 * ENOENT from the unlinks).
 */
int name_check(const char *name, enum name_rules rules, enum obj_kind kind,
	       size_t name_max, const char **bare, size_t *len);

/* Why name_check refuses name, in a few words; NULL if it does not. */
const char *name_why(const char *name, enum name_rules rules, enum obj_kind kind,
		     size_t name_max);

#endif
