/*
 * path.c - the mapping from an object name to its files.
 *
 * Pure: builds strings, touches no file. A name "/foo" of kind shm becomes
 * <root>/.SHMDfoo (data) and <root>/.SHMLfoo (lock), as on illumos. A name
 * too long to carry the five-character prefix within the directory's
 * NAME_MAX lives in <root>/.<md5 of foo>/.SHMD/foo and .../.SHML/foo.
 * shmclean decodes the same layout, so this file is its only definition.
 */
#define _GNU_SOURCE
#include "path.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void path_prefix(enum obj_kind kind, bool lock, char out[PREFIX_LEN + 1])
{
	memcpy(out, kind == KIND_SEM ? ".SEM" : ".SHM", 4);
	out[4] = lock ? 'L' : 'D';
	out[5] = '\0';
}

static int fits(int n)
{
	return n >= 0 && n < PATH_MAX;
}

int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out)
{
	char data_prefix[PREFIX_LEN + 1], lock_prefix[PREFIX_LEN + 1];
	char hex[MD5_HEX_LEN + 1];
	int n = (int)len;

	if (len > name_max || len > NAME_MAX)
		return ENAMETOOLONG;
	path_prefix(kind, false, data_prefix);
	path_prefix(kind, true, lock_prefix);
	out->leaf = bare;
	out->hashed = len + PREFIX_LEN > name_max;

	if (!out->hashed) {
		out->hash_dir[0] = '\0';
		out->data_sub[0] = out->lock_sub[0] = '\0';
		if (!fits(snprintf(out->data, PATH_MAX, "%s/%s%.*s", root,
				   data_prefix, n, bare)) ||
		    !fits(snprintf(out->lock, PATH_MAX, "%s/%s%.*s", root,
				   lock_prefix, n, bare)))
			return ENAMETOOLONG;
		return 0;
	}

	md5_hex(bare, len, hex);
	memcpy(out->data_sub, data_prefix, sizeof data_prefix);
	memcpy(out->lock_sub, lock_prefix, sizeof lock_prefix);
	if (!fits(snprintf(out->hash_dir, PATH_MAX, "%s/.%s", root, hex)) ||
	    !fits(snprintf(out->data, PATH_MAX, "%s/%s/%.*s", out->hash_dir,
			   data_prefix, n, bare)) ||
	    !fits(snprintf(out->lock, PATH_MAX, "%s/%s/%.*s", out->hash_dir,
			   lock_prefix, n, bare)))
		return ENAMETOOLONG;
	return 0;
}

int path_for_name(const char *root, enum name_rules rules, size_t name_max,
		  enum obj_kind kind, const char *name, struct obj_path *out)
{
	const char *bare;
	size_t len;
	int err = name_check(name, rules, name_max, &bare, &len);

	return err ? err : path_map(root, kind, bare, len, name_max, out);
}
