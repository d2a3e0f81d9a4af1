/*
 * name.c - validation of POSIX object names.
 *
 * Pure: knows nothing of files, locks or the public API. Both the library
 * and shmclean check names here, so they can never disagree on what a name
 * is.
 */
#define _GNU_SOURCE
#include "name.h"

#include <errno.h>
#include <string.h>

int name_check(const char *name, enum name_rules rules, size_t name_max,
	       const char **bare, size_t *len)
{
	const char *p;
	size_t n;

	if (name == NULL || name[0] != '/') {
		/* glibc accepts a relative name; the strict rules do not. */
		if (name == NULL || rules == NAME_STRICT)
			return EINVAL;
		p = name;
	} else {
		p = name + 1;
		if (rules == NAME_GLIBC)
			while (*p == '/')
				p++;
	}

	n = strlen(p);
	if (n == 0 || memchr(p, '/', n) != NULL)
		return EINVAL;
	/* "." and ".." would be directories once mapped, under glibc's rules. */
	if (rules == NAME_GLIBC && (strcmp(p, ".") == 0 || strcmp(p, "..") == 0))
		return EINVAL;
	if (n > name_max)
		return ENAMETOOLONG;
	*bare = p;
	*len = n;
	return 0;
}
