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
#include <limits.h>
#include <string.h>

/*
 * glibc 2.36 builds the path of an object in a buffer of 269 bytes:
 * "/dev/shm/", "sem." for a semaphore, the name and its NUL; a name that
 * does not fit is invalid there. One that fits can still make a file name
 * longer than NAME_MAX, which the kernel refuses with ENAMETOOLONG. These
 * are glibc's answers, so glibc mode gives them too: a semaphore's name
 * may have 251 characters (255 less "sem."), 252 to 255 are too long and
 * longer ones invalid; a shared memory object's may have 255, 256 to 259
 * are too long and longer ones invalid.
 */
#define GLIBC_DIR_LEN 9 /* "/dev/shm/" */
#define GLIBC_ROOM (GLIBC_DIR_LEN + 4 + NAME_MAX + 1)

static int glibc_limits(const char *p, size_t n, enum obj_kind kind, const char **why)
{
	const size_t prefix = kind == KIND_SEM ? 4 : 0;

	if (GLIBC_DIR_LEN + prefix + n + 1 > GLIBC_ROOM) {
		*why = "glibc's rules take at most 259 characters (255 for a semaphore)";
		return EINVAL;
	}
	/* glibc's file for a shared memory object "." or ".." would be
	 * /dev/shm itself or its parent; a semaphore's is "sem." or "sem..". */
	if (kind == KIND_SHM && (strcmp(p, ".") == 0 || strcmp(p, "..") == 0)) {
		*why = "under glibc's rules \".\" and \"..\" name directories";
		return EISDIR;
	}
	if (prefix + n > NAME_MAX) {
		*why = "under glibc's rules a semaphore's name has at most 251 characters "
		       "(its file is sem.NAME)";
		return ENAMETOOLONG;
	}
	return 0;
}

/* name_check, with the reason of a refusal in *why. */
static int check(const char *name, enum name_rules rules, enum obj_kind kind,
		 size_t name_max, const char **bare, size_t *len, const char **why)
{
	const char *p;
	size_t n;
	int err;

	if (name == NULL)
		return *why = "no name (NULL)", EINVAL;
	if (name[0] != '/') {
		/* glibc accepts a relative name; the strict rules do not. */
		if (rules == NAME_STRICT)
			return *why = "the strict rules want a leading slash", EINVAL;
		p = name;
	} else {
		p = name + 1;
		if (rules == NAME_GLIBC)
			while (*p == '/')
				p++;
	}

	n = strlen(p);
	if (n == 0)
		return *why = "the name is empty but for its slashes", EINVAL;
	if (memchr(p, '/', n) != NULL)
		return *why = rules == NAME_STRICT && p[0] == '/'
			? "the strict rules want one leading slash, not more"
			: "a slash inside the name", EINVAL;
	if (rules == NAME_GLIBC && (err = glibc_limits(p, n, kind, why)) != 0)
		return err;
	if (n > name_max)
		return *why = "longer than a file name can be in the directory (NAME_MAX)",
		       ENAMETOOLONG;
	*bare = p;
	*len = n;
	return 0;
}

int name_check(const char *name, enum name_rules rules, enum obj_kind kind,
	       size_t name_max, const char **bare, size_t *len)
{
	const char *why;

	return check(name, rules, kind, name_max, bare, len, &why);
}

const char *name_why(const char *name, enum name_rules rules, enum obj_kind kind,
		     size_t name_max)
{
	const char *bare, *why = NULL;
	size_t len;

	return check(name, rules, kind, name_max, &bare, &len, &why) ? why : NULL;
}
