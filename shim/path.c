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
	p->kind = KIND_SHM;
	p->hashed = false;
	p->root = p->data = p->lock = p->temp = p->hash_dir = p->data_parent = "";
	p->data_sub[0] = p->lock_sub[0] = '\0';
	p->leaf = "";
	p->heap = NULL;
}

void path_release(struct obj_path *p)
{
	free(p->heap);
	path_init(p);
}

/* Copies n bytes of s to w; returns the end. */
static char *put(char *w, const char *s, size_t n)
{
	memcpy(w, s, n);
	return w + n;
}

/*
 * Ends the path written from *next to end with a NUL, moves *next past
 * it, and returns the path; NULL when it would be PATH_MAX or longer.
 * The caller counted the room, so it always fits.
 */
static const char *finish(char **next, char *end)
{
	char *start = *next;

	*end = '\0';
	*next = end + 1;
	return (size_t)(end - start) < PATH_MAX ? start : NULL;
}

/* Writes <root>/<prefix><name> at *next; see finish. */
static const char *flat_path(char **next, const char *root, size_t root_len,
			     const char *prefix, const char *name, size_t len)
{
	char *w = put(*next, root, root_len);

	*w++ = '/';
	w = put(put(w, prefix, PREFIX_LEN), name, len);
	return finish(next, w);
}

/*
 * Writes <root>/.<hex>, followed by /<prefix> if prefix is not NULL, and
 * then by /<name> if name is not NULL, at *next; see finish.
 */
static const char *hashed_path(char **next, const char *root, size_t root_len,
			       const char *hex, const char *prefix, const char *name,
			       size_t len)
{
	char *w = put(put(*next, root, root_len), "/.", 2);

	w = put(w, hex, MD5_HEX_LEN);
	if (prefix != NULL) {
		*w++ = '/';
		w = put(w, prefix, PREFIX_LEN);
	}
	if (name != NULL) {
		*w++ = '/';
		w = put(w, name, len);
	}
	return finish(next, w);
}

int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out)
{
	char data_prefix[PREFIX_LEN + 1], lock_prefix[PREFIX_LEN + 1];
	char temp_prefix[PREFIX_LEN + 1];
	const size_t root_len = strlen(root);
	const bool hashed = len + PREFIX_LEN > name_max;
	/* Flat: three paths, each the root, a prefix, the name, a slash and
	 * a NUL. Hashed: five, none longer than the root, a hash directory,
	 * a prefix directory, the name and their separators. */
	const size_t room = hashed ? 5 * (root_len + MD5_HEX_LEN + 2 * (size_t)PREFIX_LEN + len + 8)
				   : 3 * (root_len + PREFIX_LEN + len + 2);
	char *next;

	path_init(out);
	if (len > name_max || len > NAME_MAX)
		return ENAMETOOLONG;
	if (room <= sizeof out->space) {
		next = out->space;
	} else if ((next = out->heap = malloc(room)) == NULL) {
		return ENOMEM;
	}
	path_prefix(kind, false, data_prefix);
	path_prefix(kind, true, lock_prefix);
	memcpy(temp_prefix, data_prefix, sizeof temp_prefix);
	temp_prefix[PREFIX_LEN - 1] = 'T';
	out->kind = kind;
	out->root = root;
	out->leaf = bare;
	out->hashed = hashed;

	if (!out->hashed) {
		out->data = flat_path(&next, root, root_len, data_prefix, bare, len);
		out->lock = flat_path(&next, root, root_len, lock_prefix, bare, len);
		out->temp = flat_path(&next, root, root_len, temp_prefix, bare, len);
	} else {
		char hex[MD5_HEX_LEN + 1];

		md5_hex(bare, len, hex);
		memcpy(out->data_sub, data_prefix, sizeof data_prefix);
		memcpy(out->lock_sub, lock_prefix, sizeof lock_prefix);
		out->hash_dir = hashed_path(&next, root, root_len, hex, NULL, NULL, 0);
		if (out->hash_dir == NULL) {
			path_release(out);
			return ENAMETOOLONG;
		}
		out->data_parent = hashed_path(&next, root, root_len, hex, data_prefix, NULL, 0);
		out->data = hashed_path(&next, root, root_len, hex, data_prefix, bare, len);
		out->lock = hashed_path(&next, root, root_len, hex, lock_prefix, bare, len);
		out->temp = hashed_path(&next, root, root_len, hex, temp_prefix, NULL, 0);
	}
	if (out->data == NULL || out->lock == NULL || out->temp == NULL ||
	    out->data_parent == NULL) {
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
	int err = name_check(name, rules, kind, name_max, &bare, &len);

	path_init(out);
	return err ? err : path_map(root, kind, bare, len, name_max, out);
}
