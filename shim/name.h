/* name.h - the rules for POSIX object names. */
#ifndef SHMSHIM_NAME_H
#define SHMSHIM_NAME_H

#include <stdbool.h>
#include <stddef.h>

enum name_rules {
	NAME_STRICT, /* illumos: exactly one leading '/', nothing else '/' */
	NAME_GLIBC,  /* glibc: any number of leading '/' */
};

/*
 * Checks name under the given rules. On success stores in *bare the name
 * without its leading slashes (a pointer into name), its length in *len,
 * and returns 0. Otherwise returns an errno value: EINVAL for a malformed
 * name, ENAMETOOLONG when the bare name is longer than name_max.
 */
int name_check(const char *name, enum name_rules rules, size_t name_max,
	       const char **bare, size_t *len);

#endif
