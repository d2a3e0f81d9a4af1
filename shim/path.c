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
#include <stdlib.h>
#include <string.h>

void path_prefix(enum obj_kind kind, bool lock, char out[PREFIX_LEN + 1])
{
	memcpy(out, kind == KIND_SEM ? ".SEM" : ".SHM", 4);
	out[4] = lock ? 'L' : 'D';
	out[5] = '\0';
}

void path_init(struct obj_path *p)
{
	p->hashed = false;
	p->data = p->lock = p->temp = p->hash_dir = "";
	p->data_sub[0] = p->lock_sub[0] = '\0';
	p->leaf = "";
	p->heap = NULL;
}

void path_release(struct obj_path *p)
{
	free(p->heap);
	path_init(p);
}

/*
 * Takes the n + 1 bytes that snprintf just wrote at *next (with *left
 * bytes of room) as one path and returns it; NULL when the path is
 * PATH_MAX or longer, or did not fit (it cannot: the room was counted).
 */
static const char *take(char **next, size_t *left, int n)
{
	char *s = *next;

	if (n < 0 || n >= PATH_MAX || (size_t)n >= *left)
		return NULL;
	*next += n + 1;
	*left -= (size_t)n + 1;
	return s;
}

int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out)
{
	char data_prefix[PREFIX_LEN + 1], lock_prefix[PREFIX_LEN + 1];
	char temp_prefix[PREFIX_LEN + 1];
	/* Four paths, none longer than root, a hash directory, a prefix
	 * directory and the name. */
	size_t left = 4 * (strlen(root) + MD5_HEX_LEN + 2 * (size_t)PREFIX_LEN + len + 8);
	int n = (int)len;
	char *next;

	path_init(out);
	if (len > name_max || len > NAME_MAX)
		return ENAMETOOLONG;
	if (left <= sizeof out->space) {
		next = out->space;
	} else if ((next = out->heap = malloc(left)) == NULL) {
		return ENOMEM;
	}
	path_prefix(kind, false, data_prefix);
	path_prefix(kind, true, lock_prefix);
	memcpy(temp_prefix, data_prefix, sizeof temp_prefix);
	temp_prefix[PREFIX_LEN - 1] = 'T';
	out->leaf = bare;
	out->hashed = len + PREFIX_LEN > name_max;

	if (!out->hashed) {
		out->data = take(&next, &left, snprintf(next, left, "%s/%s%.*s",
							root, data_prefix, n, bare));
		out->lock = take(&next, &left, snprintf(next, left, "%s/%s%.*s",
							root, lock_prefix, n, bare));
		out->temp = take(&next, &left, snprintf(next, left, "%s/%s%.*s",
							root, temp_prefix, n, bare));
	} else {
		char hex[MD5_HEX_LEN + 1];
		const char *dir;

		md5_hex(bare, len, hex);
		memcpy(out->data_sub, data_prefix, sizeof data_prefix);
		memcpy(out->lock_sub, lock_prefix, sizeof lock_prefix);
		dir = take(&next, &left, snprintf(next, left, "%s/.%s", root, hex));
		if (dir == NULL) {
			path_release(out);
			return ENAMETOOLONG;
		}
		out->hash_dir = dir;
		out->data = take(&next, &left, snprintf(next, left, "%s/.%s/%s/%.*s",
							root, hex, data_prefix, n, bare));
		out->lock = take(&next, &left, snprintf(next, left, "%s/.%s/%s/%.*s",
							root, hex, lock_prefix, n, bare));
		out->temp = take(&next, &left, snprintf(next, left, "%s/.%s/%s",
							root, hex, temp_prefix));
	}
	if (out->data == NULL || out->lock == NULL || out->temp == NULL) {
		path_release(out);
		return ENAMETOOLONG;
	}
	return 0;
}

int path_for_name(const char *root, enum name_rules rules, size_t name_max,
		  enum obj_kind kind, const char *name, struct obj_path *out)
{
	const char *bare;
	size_t len;
	int err = name_check(name, rules, name_max, &bare, &len);

	path_init(out);
	return err ? err : path_map(root, kind, bare, len, name_max, out);
}
