/*
 * inventory.c - finding every shmshim file under a root.
 *
 * Flat objects and locks are <root>/.SHMDfoo and <root>/.SHMLfoo (.SEM*
 * for semaphores); long names live in <root>/.<md5>/.SHMD/<name>. A long
 * name is decoded from its file name and accepted only when its MD5 is the
 * directory's name. Nothing is followed: every file is examined with lstat,
 * and directories are opened with O_NOFOLLOW.
 */
#define _GNU_SOURCE
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "md5.h"

static const struct {
	enum obj_kind kind;
	bool lock;
} prefixes[] = {
	{ KIND_SHM, false }, { KIND_SHM, true }, { KIND_SEM, false }, { KIND_SEM, true },
};
#define N_PREFIXES (sizeof prefixes / sizeof prefixes[0])

const char *state_name(enum entry_state state)
{
	static const char *const names[] = {
		[STATE_IN_USE] = "in-use", [STATE_ORPHAN] = "orphan",
		[STATE_UNKNOWN] = "unknown", [STATE_FOREIGN] = "foreign",
		[STATE_HELD] = "held",
		[STATE_STALE] = "stale", [STATE_EMPTY] = "empty",
	};
	return names[state];
}

const char *kind_name(enum obj_kind kind)
{
	return kind == KIND_SEM ? "sem" : "shm";
}

static void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n);
	if (p == NULL) {
		perror("shmclean");
		exit(1);
	}
	return p;
}

static char *xasprintf2(const char *a, const char *b, const char *c)
{
	size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
	char *s = xrealloc(NULL, n);

	snprintf(s, n, "%s%s%s", a, b, c);
	return s;
}

static const char *not_regular(mode_t mode)
{
	if (S_ISLNK(mode))
		return "a symbolic link";
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a FIFO";
	if (S_ISSOCK(mode))
		return "a socket";
	if (S_ISCHR(mode) || S_ISBLK(mode))
		return "a device";
	return NULL;
}

static struct entry *add(struct inventory *inv, enum entry_type type,
			 enum obj_kind kind, bool hashed, char *name, char *path)
{
	struct entry *e;

	if (inv->n == inv->cap) {
		inv->cap = inv->cap ? 2 * inv->cap : 64;
		inv->v = xrealloc(inv->v, inv->cap * sizeof *inv->v);
	}
	e = &inv->v[inv->n++];
	memset(e, 0, sizeof *e);
	e->type = type;
	e->kind = kind;
	e->hashed = hashed;
	e->name = name;
	e->path = path;
	e->state = STATE_UNKNOWN;
	return e;
}

/* Adds the file dir/leaf as an object or lock called name. */
static void add_file(struct inventory *inv, int dir_fd, const char *leaf,
		     char *path, enum obj_kind kind, bool lock, bool hashed,
		     char *name)
{
	struct entry *e = add(inv, lock ? ENTRY_LOCK : ENTRY_OBJECT, kind,
			      hashed, name, path);

	if (fstatat(dir_fd, leaf, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
		inv->n--; /* gone meanwhile */
		free(name);
		free(path);
		return;
	}
	e->note = not_regular(e->st.st_mode);
	if (e->note)
		e->state = STATE_FOREIGN;
}

/* Which prefix, if any, the file name starts with. */
static int prefix_of(const char *file)
{
	for (size_t i = 0; i < N_PREFIXES; i++) {
		char prefix[PREFIX_LEN + 1];

		path_prefix(prefixes[i].kind, prefixes[i].lock, prefix);
		if (strncmp(file, prefix, PREFIX_LEN) == 0 && file[PREFIX_LEN])
			return (int)i;
	}
	return -1;
}

static bool is_hash_dir_name(const char *s)
{
	if (s[0] != '.' || strlen(s) != MD5_HEX_LEN + 1)
		return false;
	for (const char *p = s + 1; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

/* Adds the files of one subdirectory (.SHMD, ...) of a hash directory. */
static size_t scan_sub(struct inventory *inv, int hash_fd, const char *hash_path,
		       const char *hex, size_t which)
{
	char sub[PREFIX_LEN + 1], dir_path[PATH_MAX];
	size_t found = 0;
	struct dirent *d;
	DIR *dir;
	int fd;

	path_prefix(prefixes[which].kind, prefixes[which].lock, sub);
	fd = openat(hash_fd, sub, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return 0;
	}
	snprintf(dir_path, sizeof dir_path, "%s/%s/", hash_path, sub);
	while ((d = readdir(dir)) != NULL) {
		char digest[MD5_HEX_LEN + 1];
		size_t before = inv->n;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		found++;
		add_file(inv, dirfd(dir), d->d_name,
			 xasprintf2(dir_path, d->d_name, ""), prefixes[which].kind,
			 prefixes[which].lock, true, xasprintf2("/", d->d_name, ""));
		md5_hex(d->d_name, strlen(d->d_name), digest);
		if (inv->n > before && strcmp(digest, hex) != 0) {
			inv->v[inv->n - 1].state = STATE_FOREIGN;
			inv->v[inv->n - 1].note = "its name does not match its hash directory";
		}
	}
	closedir(dir);
	return found;
}

static void scan_hash_dir(struct inventory *inv, int root_fd, const char *root,
			  const char *dname)
{
	char *path = xasprintf2(root, "/", dname);
	size_t found = 0, others = 0;
	struct dirent *d;
	DIR *dir;
	int fd = openat(root_fd, dname, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		/* A link or a file with a hash directory's name. */
		struct entry *e = add(inv, ENTRY_DIR, KIND_SHM, true, NULL, path);

		if (fd >= 0)
			close(fd);
		if (fstatat(root_fd, dname, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
			inv->n--;
			free(path);
			return;
		}
		e->state = STATE_FOREIGN;
		e->note = not_regular(e->st.st_mode) ? not_regular(e->st.st_mode)
						       : "not a directory";
		return;
	}
	for (size_t i = 0; i < N_PREFIXES; i++)
		found += scan_sub(inv, dirfd(dir), path, dname + 1, i);
	while ((d = readdir(dir)) != NULL) {
		bool known = strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0;

		for (size_t i = 0; i < N_PREFIXES && !known; i++) {
			char sub[PREFIX_LEN + 1];

			path_prefix(prefixes[i].kind, prefixes[i].lock, sub);
			known = strcmp(d->d_name, sub) == 0;
		}
		others += !known;
	}
	if (found == 0 && others == 0) {
		struct entry *e = add(inv, ENTRY_DIR, KIND_SHM, true, NULL, path);

		fstat(dirfd(dir), &e->st);
		e->state = STATE_EMPTY;
	} else {
		free(path);
	}
	closedir(dir);
}

/* By kind, then name, then object before lock; directories last. */
static int compare(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int c;

	if ((x->name == NULL) != (y->name == NULL))
		return x->name == NULL ? 1 : -1;
	if (x->name == NULL)
		return strcmp(x->path, y->path);
	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	c = strcmp(x->name, y->name);
	if (c)
		return c;
	return (int)x->type - (int)y->type;
}

int inventory_scan(struct inventory *inv, const char *root)
{
	const char *dir_name = *root ? root : "/";
	DIR *dir = opendir(dir_name);
	struct dirent *d;

	memset(inv, 0, sizeof *inv);
	if (dir == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		int which = prefix_of(d->d_name);

		if (which >= 0)
			add_file(inv, dirfd(dir), d->d_name,
				 xasprintf2(root, "/", d->d_name),
				 prefixes[which].kind, prefixes[which].lock, false,
				 xasprintf2("/", d->d_name + PREFIX_LEN, ""));
		else if (is_hash_dir_name(d->d_name))
			scan_hash_dir(inv, dirfd(dir), root, d->d_name);
	}
	closedir(dir);
	if (inv->n)
		qsort(inv->v, inv->n, sizeof *inv->v, compare);
	return 0;
}

const struct entry *inventory_lock_of(const struct inventory *inv, size_t i)
{
	const struct entry *e = &inv->v[i];

	if (e->type != ENTRY_OBJECT || i + 1 >= inv->n)
		return NULL;
	e++;
	return e->type == ENTRY_LOCK && e->kind == inv->v[i].kind &&
			       strcmp(e->name, inv->v[i].name) == 0
		       ? e
		       : NULL;
}

void inventory_free(struct inventory *inv)
{
	for (size_t i = 0; i < inv->n; i++) {
		free(inv->v[i].name);
		free(inv->v[i].path);
		free(inv->v[i].users);
	}
	free(inv->v);
	memset(inv, 0, sizeof *inv);
}
