/* t_name.c - name rules, the name-to-path mapping and settings parsing. */
#define _GNU_SOURCE
#include "config.h"
#include "md5.h"
#include "name.h"
#include "path.h"
#include "tap.h"

static void check_valid_kind(const char *name, enum name_rules rules, enum obj_kind kind,
			     const char *want_bare)
{
	const char *bare = NULL;
	size_t len = 0;
	int err = name_check(name, rules, kind, NAME_MAX, &bare, &len);

	ok(err == 0 && bare && strcmp(bare, want_bare) == 0 &&
		   len == strlen(want_bare),
	   "%s, %s: \"%.40s\" is valid, bare \"%.40s\"",
	   rules == NAME_STRICT ? "strict" : "glibc", kind == KIND_SEM ? "sem" : "shm",
	   name, want_bare);
}

static void check_valid(const char *name, enum name_rules rules, const char *want_bare)
{
	check_valid_kind(name, rules, KIND_SHM, want_bare);
}

static void check_invalid_kind(const char *name, enum name_rules rules, enum obj_kind kind,
			       int want, const char *label)
{
	const char *bare;
	size_t len;
	int err = name_check(name, rules, kind, NAME_MAX, &bare, &len);

	if (!ok(err == want, "%s, %s: %s gives %s",
		rules == NAME_STRICT ? "strict" : "glibc", kind == KIND_SEM ? "sem" : "shm",
		label, err_name(want)))
		diag("got %d", err);
}

static void check_invalid(const char *name, enum name_rules rules, int want,
			  const char *label)
{
	check_invalid_kind(name, rules, KIND_SHM, want, label);
}

static char *repeat(char c, size_t n, bool slash)
{
	char *s = malloc(n + 2);
	size_t i = 0;

	if (s == NULL)
		bail("malloc");
	if (slash)
		s[i++] = '/';
	memset(s + i, c, n);
	s[i + n] = '\0';
	return s;
}

static void test_rules(void)
{
	char *n255 = repeat('x', 255, true), *n256 = repeat('x', 256, true);

	check_valid("/foo", NAME_STRICT, "foo");
	check_valid("/.", NAME_STRICT, ".");
	check_valid(n255, NAME_STRICT, n255 + 1);
	check_invalid("foo", NAME_STRICT, EINVAL, "\"foo\"");
	check_invalid("//foo", NAME_STRICT, EINVAL, "\"//foo\"");
	check_invalid("/a/b", NAME_STRICT, EINVAL, "\"/a/b\"");
	check_invalid("/a/", NAME_STRICT, EINVAL, "\"/a/\"");
	check_invalid("/", NAME_STRICT, EINVAL, "\"/\"");
	check_invalid("", NAME_STRICT, EINVAL, "\"\"");
	check_invalid(NULL, NAME_STRICT, EINVAL, "NULL");
	check_invalid(n256, NAME_STRICT, ENAMETOOLONG, "256 characters");

	check_valid("foo", NAME_GLIBC, "foo");
	check_valid("/foo", NAME_GLIBC, "foo");
	check_valid("//foo", NAME_GLIBC, "foo");
	check_valid("///foo", NAME_GLIBC, "foo");
	check_valid(n255, NAME_GLIBC, n255 + 1);
	check_invalid("/", NAME_GLIBC, EINVAL, "\"/\"");
	check_invalid("//", NAME_GLIBC, EINVAL, "\"//\"");
	check_invalid("", NAME_GLIBC, EINVAL, "\"\"");
	check_invalid("/a/b", NAME_GLIBC, EINVAL, "\"/a/b\"");
	check_invalid("a/", NAME_GLIBC, EINVAL, "\"a/\"");
	check_invalid("/.", NAME_GLIBC, EISDIR, "\"/.\" (glibc's file: /dev/shm itself)");
	check_invalid("..", NAME_GLIBC, EISDIR, "\"..\"");
	check_invalid(n256, NAME_GLIBC, ENAMETOOLONG, "256 characters");
	free(n255);
	free(n256);
}

/* glibc's own limits, which glibc mode keeps (see name.c). */
static void test_glibc_limits(void)
{
	char *n251 = repeat('s', 251, true), *n252 = repeat('s', 252, true);
	char *n255 = repeat('s', 255, true), *n256 = repeat('s', 256, true);
	char *n259 = repeat('s', 259, false), *n260 = repeat('s', 260, true);

	check_valid_kind("/.", NAME_GLIBC, KIND_SEM, ".");
	check_valid_kind("//..", NAME_GLIBC, KIND_SEM, "..");
	check_valid_kind(n251, NAME_GLIBC, KIND_SEM, n251 + 1);
	check_invalid_kind(n252, NAME_GLIBC, KIND_SEM, ENAMETOOLONG, "252 characters");
	check_invalid_kind(n255, NAME_GLIBC, KIND_SEM, ENAMETOOLONG, "255 characters");
	check_invalid_kind(n256, NAME_GLIBC, KIND_SEM, EINVAL, "256 characters");
	check_valid_kind(n252, NAME_STRICT, KIND_SEM, n252 + 1);
	check_valid_kind(n255, NAME_STRICT, KIND_SEM, n255 + 1);
	check_invalid_kind(n259, NAME_GLIBC, KIND_SHM, ENAMETOOLONG, "259 characters");
	check_invalid_kind(n260, NAME_GLIBC, KIND_SHM, EINVAL, "260 characters");
	check_invalid_kind(n260, NAME_STRICT, KIND_SHM, ENAMETOOLONG, "260 characters");
	check_valid_kind("/.", NAME_STRICT, KIND_SHM, ".");
	free(n251);
	free(n252);
	free(n255);
	free(n256);
	free(n259);
	free(n260);
}

static void test_flat(void)
{
	struct obj_path p;

	ok(path_for_name("/tmp", NAME_STRICT, NAME_MAX, KIND_SHM, "/foo", &p) == 0 &&
		   !p.hashed && strcmp(p.data, "/tmp/.SHMDfoo") == 0 &&
		   strcmp(p.lock, "/tmp/.SHMLfoo") == 0 && strcmp(p.hash_dir, "") == 0,
	   "/foo maps to /tmp/.SHMDfoo and /tmp/.SHMLfoo");
	path_release(&p);
	ok(path_for_name("", NAME_STRICT, NAME_MAX, KIND_SEM, "/foo", &p) == 0 &&
		   strcmp(p.data, "/.SEMDfoo") == 0 &&
		   strcmp(p.lock, "/.SEMLfoo") == 0 && strcmp(p.temp, "/.SEMTfoo") == 0,
	   "a semaphore under root / maps to /.SEMDfoo, /.SEMLfoo, made as /.SEMTfoo");
	path_release(&p);
	ok(path_for_name("/r", NAME_GLIBC, NAME_MAX, KIND_SHM, "//foo", &p) == 0 &&
		   strcmp(p.data, "/r/.SHMDfoo") == 0,
	   "glibc rules: //foo maps like /foo");
	path_release(&p);
	ok(path_for_name("/r", NAME_STRICT, NAME_MAX, KIND_SHM, "foo", &p) == EINVAL &&
		   strcmp(p.data, "") == 0,
	   "path_for_name passes on the name check's EINVAL, and maps nothing");
	path_release(&p);
}

static void test_hashed(void)
{
	char hex[MD5_HEX_LEN + 1], want[PATH_MAX], want_lock[PATH_MAX];
	char want_dir[PATH_MAX];
	struct obj_path p;

	for (size_t len = 249; len <= 256; len++) {
		char *name = repeat('n', len, true);
		int err = path_for_name("/tmp", NAME_STRICT, NAME_MAX, KIND_SHM,
					name, &p);

		if (len > 255) {
			ok(err == ENAMETOOLONG, "a %zu-character name is too long",
			   len);
		} else if (len + PREFIX_LEN <= NAME_MAX) {
			ok(err == 0 && !p.hashed && strlen(p.data) == 5 + 5 + len,
			   "a %zu-character name is flat", len);
			path_release(&p);
		} else {
			md5_hex(name + 1, len, hex);
			snprintf(want, sizeof want, "/tmp/.%s/.SHMD/%s", hex,
				 name + 1);
			snprintf(want_lock, sizeof want_lock,
				 "/tmp/.%s/.SHML/%s", hex, name + 1);
			snprintf(want_dir, sizeof want_dir, "/tmp/.%s", hex);
			ok(err == 0 && p.hashed && strcmp(p.data, want) == 0 &&
				   strcmp(p.lock, want_lock) == 0 &&
				   strcmp(p.hash_dir, want_dir) == 0 &&
				   strcmp(p.leaf, name + 1) == 0 &&
				   strcmp(p.data_sub, ".SHMD") == 0 &&
				   strcmp(p.lock_sub, ".SHML") == 0,
			   "a %zu-character name lives in /tmp/.<md5>/.SHMD/", len);
			snprintf(want, sizeof want, "/tmp/.%s/.SHMT", hex);
			ok(strcmp(p.temp, want) == 0,
			   "... and would be made as /tmp/.<md5>/.SHMT");
			path_release(&p);
		}
		free(name);
	}
	/* A smaller NAME_MAX moves the boundary. */
	ok(path_for_name("/r", NAME_STRICT, 14, KIND_SHM, "/123456789", &p) == 0 &&
		   !p.hashed, "NAME_MAX 14: 9 characters stay flat");
	path_release(&p);
	ok(path_for_name("/r", NAME_STRICT, 14, KIND_SHM, "/1234567890", &p) == 0 &&
		   p.hashed, "NAME_MAX 14: 10 characters are hashed");
	path_release(&p);

	/* A long root does not fit the struct's own room: allocated. */
	char *root = repeat('r', 2000, true), *name = repeat('n', 253, true);
	ok(path_for_name(root, NAME_STRICT, NAME_MAX, KIND_SHM, name, &p) == 0 &&
		   p.heap != NULL && strncmp(p.data, root, 2001) == 0 &&
		   strcmp(strrchr(p.data, '/'), name) == 0 &&
		   strstr(p.lock, "/.SHML/") != NULL,
	   "a 2000-character root with a long name maps correctly (in allocated room)");
	path_release(&p);
	ok(p.heap == NULL && strcmp(p.data, "") == 0, "path_release frees it and empties the paths");
	free(root);
	free(name);

	root = repeat('r', PATH_MAX - 20, true);
	ok(path_for_name(root, NAME_STRICT, NAME_MAX, KIND_SHM, "/0123456789abcdefghij",
			 &p) == ENAMETOOLONG,
	   "a path past PATH_MAX gives ENAMETOOLONG");
	path_release(&p);
	free(root);
}

static void test_config(void)
{
	struct config c;

	config_parse(&c, NULL, NULL, NULL, NULL);
	ok(strcmp(c.root, "/tmp") == 0 && c.rules == NAME_STRICT &&
		   c.lock_timeout_ms == 10000 && !c.debug && c.name_max == 255,
	   "defaults: /tmp, strict names, 10000 ms, no debug");
	config_parse(&c, "/var/tmp//", "glibc", "250", "1");
	ok(strcmp(c.root, "/var/tmp") == 0 && c.rules == NAME_GLIBC &&
		   c.lock_timeout_ms == 250 && c.debug,
	   "SHMSHIM_DIR loses trailing slashes; glibc names; 250 ms; debug");
	config_parse(&c, "/", "strict", "-5", "0");
	ok(strcmp(c.root, "") == 0 && c.rules == NAME_STRICT &&
		   c.lock_timeout_ms == 10000 && !c.debug,
	   "root / becomes \"\"; a negative time-out falls back; DEBUG=0 is off");
	ok(c.root_error == 0, "... and is usable");
	config_parse(&c, "", NULL, "12abc", "");
	ok(c.root_error == ENOENT && c.lock_timeout_ms == 10000 && !c.debug,
	   "an empty SHMSHIM_DIR is unusable (ENOENT), never /tmp; a malformed time-out falls back");
	char *huge = malloc(PATH_MAX + 1);
	if (huge == NULL)
		bail("malloc");
	memset(huge, 'd', PATH_MAX);
	huge[0] = '/';
	huge[PATH_MAX] = '\0';
	config_parse(&c, huge, NULL, NULL, NULL);
	ok(c.root_error == ENAMETOOLONG && strcmp(c.root, "/tmp") != 0,
	   "a SHMSHIM_DIR longer than PATH_MAX is unusable (ENAMETOOLONG), never /tmp");
	free(huge);
	config_parse(&c, NULL, NULL, "0", NULL);
	ok(c.lock_timeout_ms == 0, "a time-out of 0 is allowed");
	config_parse(&c, NULL, NULL, "9223372036854775807", NULL);
	ok(c.lock_timeout_ms == MAX_LOCK_TIMEOUT_MS, "LONG_MAX ms is cut to %ld", MAX_LOCK_TIMEOUT_MS);
	config_parse(&c, NULL, NULL, "99999999999999999999999", NULL);
	ok(c.lock_timeout_ms == MAX_LOCK_TIMEOUT_MS, "... and so is a number past LONG_MAX");
	config_parse(&c, NULL, NULL, "2147483647", NULL);
	ok(c.lock_timeout_ms == 2147483647L, "2147483647 ms is kept");
}

int main(void)
{
	test_rules();
	test_glibc_limits();
	test_flat();
	test_hashed();
	test_config();
	return done_testing();
}
