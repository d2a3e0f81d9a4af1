/*
 * fuzz_name.c - libFuzzer target for name checking and path mapping.
 *
 * The first input byte picks the rules, the kind and a NAME_MAX; the rest
 * is the name. Whatever the input, a valid name must map inside the root,
 * to a last component that holds no '/', with the hashed layout exactly
 * when the prefixed name would not fit; an invalid one must give EINVAL or
 * ENAMETOOLONG.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "md5.h"
#include "name.h"
#include "path.h"

#define ROOT "/tmp/fuzz-root"

static void check(bool cond)
{
	if (!cond)
		abort();
}

static void check_mapped(const struct obj_path *p, const char *bare, size_t len,
			 size_t name_max, enum obj_kind kind)
{
	char prefix[PREFIX_LEN + 1];
	const char *last;

	path_prefix(kind, false, prefix);
	check(strncmp(p->data, ROOT "/", sizeof ROOT) == 0);
	check(strncmp(p->lock, ROOT "/", sizeof ROOT) == 0);
	check(p->hashed == (len + PREFIX_LEN > name_max));
	last = strrchr(p->data, '/') + 1;
	if (p->hashed) {
		char hex[MD5_HEX_LEN + 1];

		check(strcmp(last, bare) == 0 && strcmp(p->leaf, bare) == 0);
		md5_hex(bare, len, hex);
		check(strncmp(p->hash_dir + sizeof ROOT + 1, hex, MD5_HEX_LEN) == 0);
		check(strlen(p->hash_dir) == sizeof ROOT + 1 + MD5_HEX_LEN);
	} else {
		check(strncmp(last, prefix, PREFIX_LEN) == 0);
		check(strcmp(last + PREFIX_LEN, bare) == 0);
		check(last == p->data + sizeof ROOT);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const size_t maxes[] = { 255, 14, 32, 6 };
	enum name_rules rules;
	enum obj_kind kind;
	struct obj_path p;
	const char *bare;
	size_t name_max, len;
	char *name;
	int err;

	if (size == 0)
		return 0;
	rules = data[0] & 1 ? NAME_GLIBC : NAME_STRICT;
	kind = data[0] & 2 ? KIND_SEM : KIND_SHM;
	name_max = maxes[(data[0] >> 2) & 3];
	name = malloc(size);
	if (name == NULL)
		return 0;
	memcpy(name, data + 1, size - 1);
	name[size - 1] = '\0';

	err = name_check(name, rules, kind, name_max, &bare, &len);
	if (err == 0) {
		check(len > 0 && len <= name_max && strlen(bare) == len);
		check(strchr(bare, '/') == NULL);
		check(rules == NAME_STRICT || kind == KIND_SEM || (strcmp(bare, ".") && strcmp(bare, "..")));
		check(rules == NAME_STRICT || len + (kind == KIND_SEM ? 4 : 0) <= NAME_MAX);
		check(rules == NAME_GLIBC || bare == name + 1);
		err = path_for_name(ROOT, rules, name_max, kind, name, &p);
		check(err == 0);
		check_mapped(&p, bare, len, name_max, kind);
	} else {
		check(err == EINVAL || err == ENAMETOOLONG ||
		      (err == EISDIR && rules == NAME_GLIBC && kind == KIND_SHM));
		check(path_for_name(ROOT, rules, name_max, kind, name, &p) == err);
		check(*p.data == '\0');
	}
	path_release(&p);
	free(name);
	return 0;
}
