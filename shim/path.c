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

/* A piece of a path: n bytes at s. */
struct piece {
	const char *s;
	size_t n;
};

/*
 * Writes the pieces one after another and a NUL at *next, moves *next past
 * them, and returns the path; NULL when it would be PATH_MAX or longer.
 * The caller counted the room, so it always fits.
 */
static const char *join(char **next, const struct piece *p, size_t count)
{
	char *start = *next, *w = start;

	for (size_t i = 0; i < count; i++) {
		memcpy(w, p[i].s, p[i].n);
		w += p[i].n;
	}
	*w = '\0';
	*next = w + 1;
	return (size_t)(w - start) < PATH_MAX ? start : NULL;
}

#define JOIN(next, ...)                                                \
	join(next, (const struct piece[]){ __VA_ARGS__ },             \
	     sizeof((const struct piece[]){ __VA_ARGS__ }) / sizeof(struct piece))

int path_map(const char *root, enum obj_kind kind, const char *bare,
	     size_t len, size_t name_max, struct obj_path *out)
{
	char data_prefix[PREFIX_LEN + 1], lock_prefix[PREFIX_LEN + 1];
	char temp_prefix[PREFIX_LEN + 1];
	const size_t root_len = strlen(root);
	/* Five paths, none longer than root, a hash directory, a prefix
	 * directory, the name and their separators. */
	const size_t room = 5 * (root_len + MD5_HEX_LEN + 2 * (size_t)PREFIX_LEN + len + 8);
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
	out->hashed = len + PREFIX_LEN > name_max;

	const struct piece r = { root, root_len }, name = { bare, len }, slash = { "/", 1 };
	const struct piece data = { data_prefix, PREFIX_LEN }, lock = { lock_prefix, PREFIX_LEN };
	const struct piece temp = { temp_prefix, PREFIX_LEN };

	if (!out->hashed) {
		out->data = JOIN(&next, r, slash, data, name);
		out->lock = JOIN(&next, r, slash, lock, name);
		out->temp = JOIN(&next, r, slash, temp, name);
	} else {
		char hex[MD5_HEX_LEN + 1];
		const struct piece h = { hex, MD5_HEX_LEN }, dot = { "/.", 2 };

		md5_hex(bare, len, hex);
		memcpy(out->data_sub, data_prefix, sizeof data_prefix);
		memcpy(out->lock_sub, lock_prefix, sizeof lock_prefix);
		out->hash_dir = JOIN(&next, r, dot, h);
		if (out->hash_dir == NULL) {
			path_release(out);
			return ENAMETOOLONG;
		}
		out->data_parent = JOIN(&next, r, dot, h, slash, data);
		out->data = JOIN(&next, r, dot, h, slash, data, slash, name);
		out->lock = JOIN(&next, r, dot, h, slash, lock, slash, name);
		out->temp = JOIN(&next, r, dot, h, slash, temp);
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
