/*
 * inventory.c - finding every shmshim file under a root.
 *
 * Flat objects and locks are <root>/.SHMDfoo and <root>/.SHMLfoo (.SEM*
 * for semaphores); long names live in <root>/.<md5>/.SHMD/<name>. A long
 * name is decoded from its file name and accepted only when its MD5 is the
 * directory's name. Nothing is followed: every file is examined with lstat,
 * and directories are opened with O_NOFOLLOW.
 *
 * What the shim would refuse to use is listed as foreign, and never
 * removed: anything but a regular file, a file with more than one link (a
 * hard link to a file elsewhere), and a long name's file in a directory
 * that belongs neither to root nor to the file's owner (that directory's
 * owner could have put it there). Also listed: a semaphore's temporary
 * file (.SEMTfoo, in a long name's hash directory just .SEMT), held while
 * its name's lock file is, and directories left unfinished by a killed
 * process (.<md5>~, .<md5>~.SHMD, ...).
 *
 * System V segments are <root>/.SHVD<id>, their keys the symbolic links
 * <root>/.SHVK<key> (whose text, read and never followed, is the id), and
 * the keys' lock files <root>/.SHVL<key> (shim/sysvseg.h). A segment whose
 * file the shim would not take for one (no valid header) is foreign; a key
 * link that names no segment with its key is stale, as the shim takes it.
 *
 * Nothing another user controls may make us wait: everything is looked at
 * with stat_nosync, and anything on another file system than the root (a
 * FUSE mount whose server never answers, say) is foreign and never opened.
 */
#define _GNU_SOURCE
#include "inventory.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "md5.h"
#include "nosync.h"
#include "sysfile.h"
#include "sysvseg.h"

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

bool entry_is_sysv(const struct entry *e)
{
	return e->type == ENTRY_SYSV || e->type == ENTRY_SYSV_KEY || e->type == ENTRY_SYSV_LOCK;
}

const char *entry_kind(const struct entry *e)
{
	return entry_is_sysv(e) ? "sysv" : kind_name(e->kind);
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

/* Whether dir_fd/name is the file st describes. */
static bool same_file(int dir_fd, const char *name, const struct stat *st)
{
	struct stat other;

	return stat_nosync(dir_fd, name, &other, AT_SYMLINK_NOFOLLOW) == 0 &&
	       other.st_dev == st->st_dev && other.st_ino == st->st_ino;
}

/* Whether a file in the open directory dir_fd is the file st describes. */
static bool any_same_file(int dir_fd, const struct stat *st)
{
	DIR *dir = fdopendir(dir_fd);
	struct dirent *d;
	bool found = false;

	if (dir == NULL) {
		close(dir_fd);
		return false;
	}
	while (!found && (d = readdir(dir)) != NULL)
		found = d->d_name[0] != '.' && same_file(dirfd(dir), d->d_name, st);
	closedir(dir);
	return found;
}

/*
 * Whether the semaphore file or temporary file dir_fd/leaf (e) shares its
 * two links with the other: a creator without O_TMPFILE links the one to
 * the other and then removes the temporary name, and one killed in
 * between leaves both (shim/place.c accepts such a semaphore). For a long
 * name, the data file is <hash>/.SEMD/<name> and the temporary <hash>/.SEMT.
 */
static bool sem_pair(const struct entry *e, int dir_fd, const char *leaf)
{
	char other[NAME_MAX + 1];

	if (e->kind != KIND_SEM || e->st.st_nlink != 2 ||
	    (e->type != ENTRY_OBJECT && e->type != ENTRY_TEMP))
		return false;
	if (!e->hashed) {
		snprintf(other, sizeof other, "%s", leaf);
		other[PREFIX_LEN - 1] = e->type == ENTRY_OBJECT ? 'T' : 'D';
		return same_file(dir_fd, other, &e->st);
	}
	if (e->type == ENTRY_OBJECT)
		return same_file(dir_fd, "../.SEMT", &e->st);
	struct stat sub_st;

	path_prefix(KIND_SEM, false, other);
	/* Only a directory on the same file system is opened (see the top). */
	if (stat_nosync(dir_fd, other, &sub_st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISDIR(sub_st.st_mode) || sub_st.st_dev != e->st.st_dev)
		return false;
	int sub = openat(dir_fd, other, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	return sub >= 0 && any_same_file(sub, &e->st);
}

/* What a System V key's link (a symbolic link) is not. */
static const char *not_link(mode_t mode)
{
	return S_ISLNK(mode) ? NULL : "not a symbolic link";
}

/* Adds the file dir/leaf as an entry called name; NULL when it is gone. */
static struct entry *add_file(struct inventory *inv, int dir_fd, const char *leaf,
			      char *path, enum obj_kind kind, enum entry_type type,
			      bool hashed, char *name)
{
	struct entry *e = add(inv, type, kind, hashed, name, path);

	if (stat_nosync(dir_fd, leaf, &e->st, AT_SYMLINK_NOFOLLOW) < 0) {
		inv->n--; /* gone meanwhile */
		free(name);
		free(path);
		return NULL;
	}
	e->note = e->st.st_dev != inv->dev ? "on another file system (a mount point)"
		  : type == ENTRY_SYSV_KEY ? not_link(e->st.st_mode) : not_regular(e->st.st_mode);
	if (e->note == NULL && e->st.st_nlink != 1 && type != ENTRY_LOCK &&
	    type != ENTRY_SYSV_LOCK && type != ENTRY_SYSV_KEY && !sem_pair(e, dir_fd, leaf))
		e->note = "more than one link (a hard link to a file elsewhere?)";
	if (type == ENTRY_OBJECT && kind == KIND_SHM && !hashed && e->st.st_dev == inv->dev &&
	    (S_ISDIR(e->st.st_mode) || S_ISSOCK(e->st.st_mode))) {
		e->type = ENTRY_TREE; /* /dev/shm/foo as a directory or socket */
		e->note = NULL;
	}
	if (e->note)
		e->state = STATE_FOREIGN;
	return e;
}

/* Whether the open file fd is flock()ed by someone. */
static bool fd_locked(int fd)
{
	bool held = flock(fd, LOCK_EX | LOCK_NB) < 0 && errno == EWOULDBLOCK;

	if (!held)
		flock(fd, LOCK_UN);
	return held;
}

/*
 * Opens dir_fd/name for flock, if it is a regular file on the file system
 * dev (see the top of the file); -1 otherwise.
 */
static int open_lock_here(int dir_fd, const char *name, dev_t dev)
{
	struct stat st;

	if (stat_nosync(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_dev != dev)
		return -1;
	return openat(dir_fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
}

/* Whether any file in the open directory fd is flock()ed by someone. */
static bool any_locked(int fd, dev_t dev)
{
	DIR *dir = fdopendir(fd);
	struct dirent *d;
	bool held = false;

	if (dir == NULL) {
		close(fd);
		return false;
	}
	while (!held && (d = readdir(dir)) != NULL) {
		int file = open_lock_here(dirfd(dir), d->d_name, dev);

		if (file >= 0) {
			held = fd_locked(file);
			close(file);
		}
	}
	closedir(dir);
	return held;
}

bool inventory_lock_held(const char *root, const char *path, dev_t dev)
{
	int fd = open_beneath(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	struct stat st;
	bool held = false;

	if (fd < 0)
		return false;
	if (sys_fstat(fd, &st) == 0 && st.st_dev == dev) {
		if (S_ISDIR(st.st_mode))
			return any_locked(fd, dev);
		held = S_ISREG(st.st_mode) && fd_locked(fd);
	}
	close(fd);
	return held;
}

char *inventory_temp_lock(const char *temp_path)
{
	char *lock = xasprintf2(temp_path, "", "");
	char *leaf = strrchr(lock, '/');

	leaf = leaf ? leaf + 1 : lock;
	if (strlen(leaf) >= PREFIX_LEN)
		leaf[PREFIX_LEN - 1] = 'L';
	return lock;
}

/* A temporary file is held while its name's lock file is. */
static void add_temp(struct inventory *inv, int dir_fd, const char *leaf, char *path,
		     bool hashed, char *name)
{
	struct entry *e = add_file(inv, dir_fd, leaf, path, KIND_SEM, ENTRY_TEMP,
				   hashed, name);

	if (e && e->state != STATE_FOREIGN) {
		char *lock = inventory_temp_lock(e->path);

		e->state = inventory_lock_held(inv->root, lock, inv->dev) ? STATE_HELD
									    : STATE_STALE;
		free(lock);
	}
}

/*
 * Opens the directory dir_fd/name if it is one, on the root's file system
 * (see the top of the file), storing its status in *st. NULL otherwise,
 * with *why saying what is there instead (NULL: nothing, now).
 */
static DIR *open_dir_here(const struct inventory *inv, int dir_fd, const char *name,
			  struct stat *st, const char **why)
{
	struct stat again;
	DIR *dir;
	int fd;

	*why = NULL;
	if (stat_nosync(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) < 0)
		return NULL;
	*why = not_regular(st->st_mode);
	if (st->st_dev != inv->dev)
		*why = "on another file system (a mount point)";
	else if (!S_ISDIR(st->st_mode))
		*why = *why ? *why : "not a directory";
	else
		*why = NULL;
	if (*why)
		return NULL;
	fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || sys_fstat(fd, &again) < 0 || again.st_dev != st->st_dev ||
	    again.st_ino != st->st_ino || (dir = fdopendir(fd)) == NULL) {
		*why = "changed while we looked";
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	return dir;
}

/*
 * Adds a foreign directory entry for what is at path instead of one; with
 * why NULL (nothing is there now), just frees path.
 */
static void add_not_dir(struct inventory *inv, char *path, const struct stat *st,
			const char *why)
{
	if (why == NULL) {
		free(path);
		return;
	}
	struct entry *e = add(inv, ENTRY_DIR, KIND_SHM, true, NULL, path);

	e->st = *st;
	e->state = STATE_FOREIGN;
	e->note = why;
}

/* ".SEMT": a semaphore's temporary file. */
static void temp_prefix(char out[PREFIX_LEN + 1])
{
	path_prefix(KIND_SEM, false, out);
	out[PREFIX_LEN - 1] = 'T';
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

/* ".<32 lower-case hex digits>" at s, whatever follows. */
static bool starts_with_hash(const char *s)
{
	if (s[0] != '.' || strlen(s) < MD5_HEX_LEN + 1)
		return false;
	for (int i = 1; i <= MD5_HEX_LEN; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool is_hash_dir_name(const char *s)
{
	return starts_with_hash(s) && s[MD5_HEX_LEN + 1] == '\0';
}

/* A directory the shim makes before renaming it into place (place.c). */
static bool is_unfinished_dir_name(const char *s)
{
	const char *rest = s + MD5_HEX_LEN + 1;

	if (!starts_with_hash(s) || rest[0] != '~')
		return false;
	if (rest[1] == '\0')
		return true;
	for (size_t i = 0; i < N_PREFIXES; i++) {
		char sub[PREFIX_LEN + 1];

		path_prefix(prefixes[i].kind, prefixes[i].lock, sub);
		if (strcmp(rest + 1, sub) == 0)
			return true;
	}
	return false;
}

/* An unfinished directory: removable when empty, foreign otherwise. */
static void add_unfinished_dir(struct inventory *inv, int root_fd, const char *root,
			       const char *dname)
{
	char *path = xasprintf2(root, "/", dname);
	const char *why;
	struct stat st;
	struct dirent *d;
	size_t n = 0;
	DIR *dir = open_dir_here(inv, root_fd, dname, &st, &why);

	if (dir == NULL) {
		add_not_dir(inv, path, &st, why);
		return;
	}
	while ((d = readdir(dir)) != NULL)
		n += strcmp(d->d_name, ".") != 0 && strcmp(d->d_name, "..") != 0;
	closedir(dir);
	struct entry *e = add(inv, ENTRY_DIR, KIND_SHM, true, NULL, path);

	e->st = st;
	e->state = n ? STATE_FOREIGN : STATE_EMPTY;
	e->note = n ? "an unfinished directory that is not empty"
		    : "left unfinished by a killed process";
}

/*
 * Whether a long name's file may be used where it is: each directory on
 * the way belongs to root or to the file's owner (place.c's rule).
 */
static bool owners_agree(uid_t dir, uid_t sub, uid_t file)
{
	return (dir == 0 || dir == file) && (sub == 0 || sub == file);
}

/* Adds the files of one subdirectory (.SHMD, ...) of a hash directory. */
static size_t scan_sub(struct inventory *inv, int hash_fd, const char *hash_path,
		       const char *hex, size_t which, uid_t hash_uid)
{
	char sub[PREFIX_LEN + 1], dir_path[PATH_MAX];
	struct stat sub_st;
	size_t found = 0;
	struct dirent *d;
	const char *why;
	DIR *dir;

	path_prefix(prefixes[which].kind, prefixes[which].lock, sub);
	snprintf(dir_path, sizeof dir_path, "%s/%s/", hash_path, sub);
	dir = open_dir_here(inv, hash_fd, sub, &sub_st, &why);
	if (dir == NULL) {
		if (why == NULL)
			return 0;
		dir_path[strlen(dir_path) - 1] = '\0';
		add_not_dir(inv, xasprintf2(dir_path, "", ""), &sub_st, why);
		return 1;
	}
	while ((d = readdir(dir)) != NULL) {
		char digest[MD5_HEX_LEN + 1];
		size_t before = inv->n;

		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		found++;
		add_file(inv, dirfd(dir), d->d_name,
			 xasprintf2(dir_path, d->d_name, ""), prefixes[which].kind,
			 prefixes[which].lock ? ENTRY_LOCK : ENTRY_OBJECT, true,
			 xasprintf2("/", d->d_name, ""));
		if (inv->n == before)
			continue;
		struct entry *e = &inv->v[inv->n - 1];

		md5_hex(d->d_name, strlen(d->d_name), digest);
		if (strcmp(digest, hex) != 0) {
			e->state = STATE_FOREIGN;
			e->note = "its name does not match its hash directory";
		} else if (e->state != STATE_FOREIGN &&
			   !owners_agree(hash_uid, sub_st.st_uid, e->st.st_uid)) {
			e->state = STATE_FOREIGN;
			e->note = "in a directory of another user";
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
	struct stat hash_st;
	struct dirent *d;
	const char *why;
	DIR *dir = open_dir_here(inv, root_fd, dname, &hash_st, &why);

	if (dir == NULL) {
		/* A link, a file, a mount point with a hash directory's name. */
		add_not_dir(inv, path, &hash_st, why);
		return;
	}
	for (size_t i = 0; i < N_PREFIXES; i++)
		found += scan_sub(inv, dirfd(dir), path, dname + 1, i, hash_st.st_uid);
	while ((d = readdir(dir)) != NULL) {
		bool known = strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0;
		char temp[PREFIX_LEN + 1];

		temp_prefix(temp);
		if (strcmp(d->d_name, temp) == 0) {
			add_temp(inv, dirfd(dir), d->d_name, xasprintf2(path, "/", temp), true,
				 NULL);
			found++;
			continue;
		}

		for (size_t i = 0; i < N_PREFIXES && !known; i++) {
			char sub[PREFIX_LEN + 1];

			path_prefix(prefixes[i].kind, prefixes[i].lock, sub);
			known = strcmp(d->d_name, sub) == 0;
		}
		others += !known;
	}
	if (found == 0 && others == 0) {
		struct entry *e = add(inv, ENTRY_DIR, KIND_SHM, true, NULL, path);

		e->st = hash_st;
		e->state = STATE_EMPTY;
	} else {
		free(path);
	}
	closedir(dir);
}

/* The System V file the name is, if any: its type, and its id or key. */
static bool sysv_file(const char *name, enum entry_type *type, struct sysv_info *info)
{
	memset(info, 0, sizeof *info);
	if (sysv_parse_seg_name(name, &info->id)) {
		*type = ENTRY_SYSV;
		return true;
	}
	info->key_known = true;
	*type = sysv_parse_key_name(name, &info->key) ? ENTRY_SYSV_KEY : ENTRY_SYSV_LOCK;
	return *type == ENTRY_SYSV_KEY || sysv_parse_lock_name(name, &info->key);
}

/* Adds the System V file root/name, of the given type. */
static void add_sysv(struct inventory *inv, int root_fd, const char *root, const char *name,
		     enum entry_type type, const struct sysv_info *info)
{
	struct entry *e = add_file(inv, root_fd, name, xasprintf2(root, "/", name), KIND_SHM,
				   type, false, NULL);

	if (e == NULL)
		return;
	e->sysv = *info;
	if (type != ENTRY_SYSV && info->key == 0 && e->state != STATE_FOREIGN) {
		e->state = STATE_FOREIGN;
		e->note = "a key of 0, IPC_PRIVATE, which has neither link nor lock";
	}
}

/*
 * Reads the header of the segment e: its key and size. A file the shim
 * would not take for a segment (sysv_seg_open says why) is foreign. One
 * the caller may not read is judged by its status alone, as the shim does
 * (SEG_STATUS); its key is then the one its link tells, if any. One that
 * cannot be opened now (another's lease on it: we wait for nobody) is
 * judged without its header; its removal reads it again.
 */
static void read_segment(struct entry *e, int root_fd)
{
	struct refusal why = { NULL, 0 };
	struct sysv_seg seg;

	if (sysv_seg_open(root_fd, (uid_t)-1, e->sysv.id, SEG_STATUS_NOWAIT, &seg, &why) < 0) {
		bool refused = why.why && why.err == errno;

		e->state = refused ? STATE_FOREIGN : e->state;
		e->note = refused ? why.why : "its header could not be read";
		e->sysv.size = e->st.st_size > SYSV_DATA_OFF ? (uint64_t)e->st.st_size - SYSV_DATA_OFF : 0;
		return;
	}
	if (seg.st.st_dev != e->st.st_dev || seg.st.st_ino != e->st.st_ino) {
		e->state = STATE_FOREIGN;
		e->note = "changed while we looked";
	} else {
		e->sysv.size = seg.hdr.size;
		e->sysv.header = e->sysv.key_known = seg.header;
		e->sysv.key = seg.hdr.key;
	}
	sysv_seg_close(&seg);
}

static int by_id(const void *a, const void *b)
{
	const struct entry *x = *(struct entry *const *)a, *y = *(struct entry *const *)b;

	return (x->sysv.id > y->sysv.id) - (x->sysv.id < y->sysv.id);
}

/*
 * Judges the key link e, given the segments by id: good when it names a
 * valid segment whose header has its key or, when the header cannot be
 * read, whose file has the link's owner (sysv_key_find's rule); then the
 * link tells such a segment's key. Any other is stale, as the shim takes
 * it. The link's text is read, never followed.
 */
static void judge_link(struct entry *e, int root_fd, struct entry **segs, size_t n)
{
	struct entry probe, *key = &probe, **found = NULL, *seg;
	int id = sysv_key_read(root_fd, e->sysv.key);

	if (id == 0 || (id < 0 && errno != EINVAL)) {
		e->state = STATE_UNKNOWN;
		e->note = id == 0 ? "removed while we looked" : "could not be read";
		return;
	}
	probe.sysv.id = id;
	if (id > 0 && n > 0)
		found = bsearch(&key, segs, n, sizeof(struct entry *), by_id);
	seg = found ? *found : NULL;
	e->state = STATE_STALE;
	if (id < 0)
		e->note = "its text is no segment id";
	else if (seg == NULL)
		e->note = "names no segment";
	else if (seg->state == STATE_FOREIGN)
		e->note = "names a file that is no segment";
	else if (seg->sysv.header ? seg->sysv.key != e->sysv.key : seg->st.st_uid != e->st.st_uid)
		e->note = "its segment has another key";
	else
		e->state = STATE_UNKNOWN; /* users_classify gives it its segment's */
	e->sysv.id = id > 0 ? id : 0;
	e->sysv.linked = e->state != STATE_STALE;
	if (e->sysv.linked && !seg->sysv.key_known) {
		seg->sysv.key = e->sysv.key;
		seg->sysv.key_known = true;
	}
}

/* Reads the segments' headers, then judges the key links by them. */
static void judge_sysv(struct inventory *inv, int root_fd)
{
	struct entry **segs;
	size_t n = 0;

	for (size_t i = 0; i < inv->n; i++)
		n += inv->v[i].type == ENTRY_SYSV;
	segs = xrealloc(NULL, (n ? n : 1) * sizeof(struct entry *));
	n = 0;
	for (size_t i = 0; i < inv->n; i++) {
		struct entry *e = &inv->v[i];

		if (e->type != ENTRY_SYSV)
			continue;
		if (e->state != STATE_FOREIGN)
			read_segment(e, root_fd);
		segs[n++] = e;
	}
	if (n > 0)
		qsort(segs, n, sizeof(struct entry *), by_id);
	for (size_t i = 0; i < inv->n; i++)
		if (inv->v[i].type == ENTRY_SYSV_KEY && inv->v[i].state != STATE_FOREIGN)
			judge_link(&inv->v[i], root_fd, segs, n);
	free(segs);
}

/* POSIX shared memory, semaphores, System V, then what has no name. */
static int rank(const struct entry *e)
{
	if (entry_is_sysv(e))
		return 2;
	if (e->name == NULL)
		return 3;
	return e->kind == KIND_SEM ? 1 : 0;
}

/* System V: by key (unknown last), then its segments by id, link, lock. */
static int compare_sysv(const struct entry *x, const struct entry *y)
{
	if (x->sysv.key_known != y->sysv.key_known)
		return x->sysv.key_known ? -1 : 1;
	if (x->sysv.key != y->sysv.key)
		return (uint32_t)x->sysv.key < (uint32_t)y->sysv.key ? -1 : 1;
	if (x->type != y->type)
		return (int)x->type - (int)y->type;
	return (x->sysv.id > y->sysv.id) - (x->sysv.id < y->sysv.id);
}

/* By rank, then name, then object before lock; directories by path. */
static int compare(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int rx = rank(x), ry = rank(y), c;

	if (rx != ry)
		return rx < ry ? -1 : 1;
	if (entry_is_sysv(x))
		return compare_sysv(x, y);
	if (x->name == NULL)
		return strcmp(x->path, y->path);
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

	struct stat root_st;

	memset(inv, 0, sizeof *inv);
	inv->root = root;
	if (dir == NULL)
		return -1;
	if (sys_fstat(dirfd(dir), &root_st) < 0) {
		closedir(dir);
		return -1;
	}
	inv->dev = root_st.st_dev;
	char temp[PREFIX_LEN + 1];

	temp_prefix(temp);
	while ((d = readdir(dir)) != NULL) {
		int which = prefix_of(d->d_name);
		enum entry_type sysv_type;
		struct sysv_info sysv;

		if (which >= 0) {
			add_file(inv, dirfd(dir), d->d_name,
				 xasprintf2(root, "/", d->d_name), prefixes[which].kind,
				 prefixes[which].lock ? ENTRY_LOCK : ENTRY_OBJECT, false,
				 xasprintf2("/", d->d_name + PREFIX_LEN, ""));
		} else if (strncmp(d->d_name, temp, PREFIX_LEN) == 0 && d->d_name[PREFIX_LEN]) {
			add_temp(inv, dirfd(dir), d->d_name, xasprintf2(root, "/", d->d_name),
				 false, xasprintf2("/", d->d_name + PREFIX_LEN, ""));
		} else if (is_hash_dir_name(d->d_name)) {
			scan_hash_dir(inv, dirfd(dir), root, d->d_name);
		} else if (is_unfinished_dir_name(d->d_name)) {
			add_unfinished_dir(inv, dirfd(dir), root, d->d_name);
		} else if (sysv_file(d->d_name, &sysv_type, &sysv)) {
			add_sysv(inv, dirfd(dir), root, d->d_name, sysv_type, &sysv);
		}
	}
	judge_sysv(inv, dirfd(dir));
	closedir(dir);
	if (inv->n)
		qsort(inv->v, inv->n, sizeof *inv->v, compare);
	return 0;
}

/* Whether b is a System V entry of a's key (not IPC_PRIVATE's: none has one). */
static bool same_key(const struct entry *a, const struct entry *b)
{
	return entry_is_sysv(b) && a->sysv.key_known && b->sysv.key_known && a->sysv.key != 0 &&
	       a->sysv.key == b->sysv.key;
}

/* The entry of type in the key group of the segment inv->v[i], or NULL. */
static const struct entry *sysv_next(const struct inventory *inv, size_t i, enum entry_type type)
{
	for (size_t j = i + 1; j < inv->n && same_key(&inv->v[i], &inv->v[j]); j++)
		if (inv->v[j].type == type)
			return &inv->v[j];
	return NULL;
}

const struct entry *inventory_link_of(const struct inventory *inv, size_t i)
{
	const struct entry *link = inv->v[i].type == ENTRY_SYSV
					   ? sysv_next(inv, i, ENTRY_SYSV_KEY) : NULL;

	return link && link->sysv.linked && link->sysv.id == inv->v[i].sysv.id ? link : NULL;
}

const struct entry *inventory_segment_of(const struct inventory *inv, size_t i)
{
	const struct entry *link = &inv->v[i];

	if (link->type != ENTRY_SYSV_KEY || !link->sysv.linked)
		return NULL;
	for (size_t j = i; j-- > 0 && same_key(link, &inv->v[j]);)
		if (inv->v[j].type == ENTRY_SYSV && inv->v[j].sysv.id == link->sysv.id)
			return &inv->v[j];
	return NULL;
}

const struct entry *inventory_lock_of(const struct inventory *inv, size_t i)
{
	const struct entry *e = &inv->v[i];

	if (e->type == ENTRY_SYSV)
		return sysv_next(inv, i, ENTRY_SYSV_LOCK);
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
