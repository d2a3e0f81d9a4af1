/*
 * clean.c - removal, through the same locks as shm_unlink.
 *
 * The scan is old news by the time we act on it, so each removal takes the
 * name's lock file and the object's own lock (DESIGN.md I1: no shm_unlink
 * of that name runs meanwhile, and nothing new can appear at its path) and
 * checks again that nobody uses the file. It holds a write lease across
 * the unlink: the kernel refuses the lease while any descriptor or mapping
 * of the file exists, and while it is held, any open of the file waits;
 * the shim's opens (which take no lock) then fail with EWOULDBLOCK and try
 * again, and if one tried, the object is kept. Where no lease can be had
 * (a file system without them), /proc is asked again for that one file.
 *
 * Unused now is not unused for good: a producer may have closed an object
 * a moment ago for a consumer that has yet to open it. So nothing that
 * changed within the age limit (--older-than, 60 s by default) goes, and
 * an object's age too is checked again under its lock.
 *
 * A System V segment goes as the shim's IPC_RMID removes it (sysvseg.c):
 * under its key's lock file, with its key's link, and, as an object does,
 * under a write lease on its file (an attach opens it, and waits). A key's
 * link goes when it is stale under that same lock.
 */
#define _GNU_SOURCE
#include "clean.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lock.h"
#include "nosync.h"
#include "object.h"
#include "place.h"
#include "sysfile.h"
#include "sysvseg.h"
#include "users.h"

/*
 * Whether a file whose status is st changed less than o->older_than
 * seconds ago.
 *
 * "Changed" is the ctime, not the mtime. The kernel sets it on every
 * change it records: a create, a write or truncate, a link or rename (so
 * an object moved or copied into place with its old times kept is new
 * here), a chmod or chown. And nobody can set it back: utimensat, which
 * gives the mtime any value, sets the ctime to now. Neither time sees
 * everything: a write through a mapping sets both only where the file
 * system notices it (ext4 at the first write to a page after writeback;
 * tmpfs never), and opening, mapping or locking the file, or its name's
 * lock file coming and going, sets neither; so the age of an object only
 * ever written through a mapping counts from its creation or last resize.
 *
 * A ctime in the future (the clock was set back since) counts as now, so
 * that with --older-than 0 everything goes.
 */
static bool young(const struct stat *st, const struct clean_opts *o)
{
	time_t changed = st->st_ctime < o->now ? st->st_ctime : o->now;

	/* Age below the limit; o->now - o->older_than fits (parse_duration). */
	return changed > o->now - o->older_than;
}

/*
 * Removes the hash directory at path, and the empty subdirectories in it,
 * if nothing else is there, whoever made them. Returns rmdir's result.
 */
static int remove_hash_dir(const char *root, const char *path)
{
	int fd = open_beneath(root, path, O_RDONLY | O_DIRECTORY);

	if (fd >= 0) {
		for (int kind = KIND_SHM; kind <= KIND_SEM; kind++)
			for (int lock = 0; lock <= 1; lock++) {
				char sub[PREFIX_LEN + 1];

				path_prefix((enum obj_kind)kind, lock, sub);
				(void)unlinkat(fd, sub, AT_REMOVEDIR);
			}
		close(fd);
	}
	return rmdir(path);
}

/* The result of checking an object again under its lock. */
enum verdict { GONE, IN_USE, UNKNOWN, YOUNG, CHANGED, UNUSED };

/* The root's directory, for the files directly in it. */
static int open_root(const char *root)
{
	return open(*root ? root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

static enum verdict recheck_by_proc(const struct stat *st, bool force)
{
	struct user *users;
	size_t uninspectable, n = users_of(st->st_dev, st->st_ino, &users,
					   &uninspectable);

	free(users);
	if (n > 0)
		return IN_USE;
	return uninspectable && !force ? UNKNOWN : UNUSED;
}

/* Unlinks the data file, setting *err on failure. */
static void unlink_data(const struct place *pl, int *err)
{
	if (unlinkat(pl->data_dir, pl->data_leaf, 0) < 0)
		*err = errno == EPERM ? EACCES : errno;
}

/*
 * The data file cannot be opened by us (mode 0, say), so cannot be locked
 * or leased: /proc alone decides. Nobody without permission can open it
 * either, and a remover that cannot open it waits for the name's lock
 * file, which we hold.
 */
static enum verdict remove_unopenable(const struct place *pl,
				      const struct clean_opts *o, int *err)
{
	struct stat st;
	enum verdict v;

	if (sys_fstatat(pl->data_dir, pl->data_leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? GONE : UNKNOWN;
	if (!S_ISREG(st.st_mode))
		return UNKNOWN;
	v = recheck_by_proc(&st, o->force);
	if (v == UNUSED && young(&st, o))
		v = YOUNG;
	if (v == UNUSED)
		unlink_data(pl, err);
	return v;
}

/*
 * The age of the locked file fd, once nobody has it open: UNUSED, or
 * YOUNG when it changed within the limit. The scan's answer is old news:
 * the file at the path may be another one by now (unlinked and made
 * anew), or have been written since, and then closed for a consumer.
 */
static enum verdict age_again(int fd, const struct clean_opts *o)
{
	struct stat st;

	if (sys_fstat(fd, &st) < 0)
		return UNKNOWN;
	return young(&st, o) ? YOUNG : UNUSED;
}

/*
 * Whether anybody has the file fd (seen as st) open or mapped: a write
 * lease, kept when granted (lease_release gives it back), or where none
 * can be had, /proc.
 */
static enum verdict lease_verdict(int fd, const struct stat *st, bool force)
{
	enum verdict v;

	switch (lease_try(fd, true)) {
	case LEASE_BUSY:
		v = IN_USE;
		break;
	case LEASE_FREE:
		/* Someone who tried to open it since is told to wait. */
		v = lease_broken(fd) ? IN_USE : UNUSED;
		break;
	default:
		v = recheck_by_proc(st, force);
	}
	return v;
}

/*
 * Takes the object's own lock, so that no shm_unlink of it runs meanwhile
 * and nothing new can appear at its path, and removes the data file
 * unless it is in use or changed within the age limit. name_locked: we
 * hold the name's lock file too. Returns the verdict; on UNUSED, *err
 * tells whether the unlink failed (0: it worked).
 */
static enum verdict remove_if_unused(const struct place *pl, const struct clean_opts *o,
				     bool name_locked, int *err)
{
	struct waiter w;
	enum verdict v;
	struct stat st;
	int fd;

	*err = 0;
	wait_start(&w, o->cf->lock_timeout_ms);
	fd = place_lock_object(pl, &w, &st);
	if (fd < 0) {
		if (errno == ENOENT)
			return GONE;
		return errno == EACCES && name_locked ? remove_unopenable(pl, o, err)
						      : UNKNOWN;
	}
	v = lease_verdict(fd, &st, o->force);
	if (v == UNUSED)
		v = age_again(fd, o);
	if (v == UNUSED)
		unlink_data(pl, err);
	lease_release(fd);
	place_unlock_object(fd);
	return v;
}

/*
 * Records what became of e as the verdict v says, err: the errno of a
 * removal that failed (0: none). Returns -1 when it failed, else 0.
 */
static int record(struct entry *e, enum verdict v, int err, const struct clean_opts *o)
{
	e->error = err;
	e->action = v != UNUSED ? "kept" : err ? "failed" : "removed";
	if (v == IN_USE) {
		e->keep = KEEP_IN_USE;
		e->note = "in use now";
	} else if (v == UNKNOWN) {
		e->keep = KEEP_UNKNOWN;
		e->note = "could not check again";
	} else if (v == YOUNG) {
		e->keep = KEEP_YOUNG;
		e->note = o->young_note;
	} else if (v == GONE) {
		e->keep = KEEP_OTHER;
		e->note = "already gone";
	} else if (v == CHANGED) {
		e->keep = KEEP_OTHER;
		e->note = "changed since the scan";
	}
	return err ? -1 : 0;
}

/*
 * Maps e back to its place; false when e is not where the shim puts it.
 * Release path afterwards either way.
 */
static bool map_entry(const struct entry *e, const struct config *cf,
		      struct obj_path *path)
{
	return path_for_name(cf->root, NAME_STRICT, cf->name_max, e->kind, e->name,
			     path) == 0 &&
	       strcmp(e->type == ENTRY_LOCK ? path->lock : path->data, e->path) == 0;
}

/*
 * Removes an object under the name's lock file and its own lock. A long
 * name whose directories are another user's (its owner's: the inventory
 * lists anything else as foreign) cannot have its lock file made there;
 * then the object's own lock must do, and an object we cannot open is
 * left alone, since only the lock file would keep its removal from
 * overlapping another.
 */
static int remove_object(struct entry *e, const struct clean_opts *o,
			 const struct obj_path *path)
{
	struct place pl;
	struct lock lk;
	enum verdict v = UNKNOWN;
	bool locked;
	int err = 0;

	place_init(&pl, path);
	locked = place_lock(&pl, o->cf->lock_timeout_ms, &lk) == 0;
	if (!locked && errno != EACCES) {
		e->action = "failed";
		e->error = errno;
		return -1;
	}
	if (place_open_data_dir(&pl, false) == 0)
		v = remove_if_unused(&pl, o, locked, &err);
	else if (errno == ENOENT)
		v = GONE;
	if (locked) {
		place_unlock(&pl, &lk);
	} else {
		place_close(&pl);
		/* The shim leaves another user's directories; we tidy them. */
		if (v == UNUSED && err == 0)
			(void)remove_hash_dir(o->cf->root, path->hash_dir);
	}
	return record(e, v, err, o);
}

/*
 * Records how the removal of a stale lock file went; taken: the result of
 * taking it without waiting (giving it back removes it).
 */
static int lock_outcome(struct entry *e, int taken)
{
	struct stat st;

	/* It was free a moment ago; someone who took it since is live. */
	if (taken < 0) {
		if (errno != EAGAIN) {
			e->action = "failed";
			e->error = errno;
			return -1;
		}
		e->action = "kept";
		e->keep = KEEP_IN_USE;
		e->note = "held now";
		return 0;
	}
	if (stat_nosync(AT_FDCWD, e->path, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		/* Giving it back could not unlink it: not ours to remove. */
		e->action = "failed";
		e->error = EACCES;
		return -1;
	}
	e->action = "removed";
	return 0;
}

static int remove_lock(struct entry *e, const struct obj_path *path)
{
	struct place pl;
	struct lock lk;
	int r;

	place_init(&pl, path);
	r = place_lock(&pl, 0, &lk);
	if (r == 0)
		place_unlock(&pl, &lk);
	return lock_outcome(e, r);
}

/* A key's stale lock file, as lock files go (lock.h). */
static int remove_sysv_lock(struct entry *e, const char *root)
{
	const char *leaf = strrchr(e->path, '/') + 1;
	int dir = open_root(root), r = -1;
	struct lock lk;

	if (dir >= 0) {
		r = lock_take(dir, leaf, 0, &lk);
		if (r == 0)
			lock_release(dir, leaf, &lk);
		close_keep_errno(dir);
	}
	return lock_outcome(e, r);
}

/*
 * The segment e, under its key's lock (the caller's), unless it is in use
 * or new, as remove_if_unused does for an object. One the caller cannot
 * open (its mode) cannot be leased: /proc alone decides, as for an object.
 */
static enum verdict segment_unused(int root_fd, const struct entry *e, int32_t key, bool locked,
				   const struct clean_opts *o, int *err)
{
	struct sysv_seg seg;
	enum verdict v;

	if (sysv_seg_open(root_fd, (uid_t)-1, e->sysv.id, SEG_STATUS_NOWAIT, &seg, NULL) < 0) {
		int err_open = errno; /* EINVAL: not the segment it was */
		char name[SYSV_NAME_MAX];
		struct stat st;

		sysv_seg_name(e->sysv.id, name);
		if (stat_nosync(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT)
			return GONE;
		return err_open == EINVAL ? CHANGED : UNKNOWN;
	}
	if (seg.st.st_dev != e->st.st_dev || seg.st.st_ino != e->st.st_ino ||
	    (seg.header && seg.hdr.key != key))
		v = CHANGED; /* another file, or not of the key whose lock we hold */
	else if (seg.fd >= 0)
		v = lease_verdict(seg.fd, &seg.st, o->force);
	else
		v = recheck_by_proc(&seg.st, o->force);
	if (v == UNUSED)
		v = seg.fd >= 0 ? age_again(seg.fd, o) : young(&seg.st, o) ? YOUNG : UNUSED;
	if (v == UNUSED && sysv_seg_unlink(root_fd, &seg, locked ? key : 0) < 0) {
		if (errno == EINVAL)
			v = GONE; /* unlinked meanwhile */
		else
			*err = errno == EPERM ? EACCES : errno;
	}
	if (seg.fd >= 0)
		lease_release(seg.fd);
	sysv_seg_close(&seg);
	return v;
}

/* The root's directory for e's removal, or -1 with e's action "failed". */
static int root_for(struct entry *e, const struct clean_opts *o)
{
	int dir = open_root(o->cf->root);

	if (dir < 0) {
		e->action = "failed";
		e->error = errno;
	}
	return dir;
}

/* The name of key's lock file, in lock_name; returns it. */
static const char *key_lock_name(int32_t key, char lock_name[SYSV_NAME_MAX])
{
	sysv_key_name(SYSV_LOCK_PREFIX, key, lock_name);
	return lock_name;
}

/*
 * A segment, under its key's lock, so that no shmget makes or finds the
 * key meanwhile, with the key's link if it names it. A segment whose key
 * is unknown (its header unreadable, and no link of its key) takes no
 * lock, as the shim's IPC_RMID takes none then.
 */
static int remove_segment(struct entry *e, const struct clean_opts *o)
{
	int32_t key = e->sysv.key_known ? e->sysv.key : 0;
	char lock_name[SYSV_NAME_MAX];
	struct lock lk;
	enum verdict v;
	int err = 0, dir = root_for(e, o);
	bool locked;

	if (dir < 0)
		return -1;
	/*
	 * Not waiting: without the key's lock (held, or another user planted
	 * something at its name) the segment goes all the same and its link
	 * stays, stale, as with the shim's IPC_RMID.
	 */
	locked = key != 0 && lock_take(dir, key_lock_name(key, lock_name), 0, &lk) == 0;
	v = segment_unused(dir, e, key, locked, o, &err);
	if (locked)
		lock_release(dir, lock_name, &lk);
	close_keep_errno(dir);
	return record(e, v, err, o);
}

/*
 * Whether key's link names no segment now, as the shim judges it
 * (sysv_key_find): 1 stale, 0 it names one, -1 cannot tell. Nothing but a
 * regular file on the root's file system dev is opened (inventory.c).
 */
static int link_stale(int dir, int32_t key, dev_t dev)
{
	char name[SYSV_NAME_MAX];
	struct sysv_seg seg;
	struct stat st;
	int id = sysv_key_read(dir, key);

	if (id <= 0)
		return id < 0 && errno == EINVAL ? 1 : -1;
	sysv_seg_name(id, name);
	if (stat_nosync(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 1 : -1;
	if (!S_ISREG(st.st_mode))
		return 1;
	if (st.st_dev != dev)
		return -1;
	id = sysv_key_find(dir, (uid_t)-1, key, SEG_STATUS_NOWAIT, &seg, NULL);
	sysv_seg_close(&seg);
	return id > 0 ? 0 : id == 0 ? 1 : -1;
}

/* Under the key's lock: whether the link e is still the stale one seen. */
static enum verdict stale_again(int dir, const struct entry *e, const struct clean_opts *o)
{
	const char *leaf = strrchr(e->path, '/') + 1;
	struct stat st;

	if (stat_nosync(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? GONE : UNKNOWN;
	if (st.st_dev != e->st.st_dev || st.st_ino != e->st.st_ino)
		return CHANGED;
	if (young(&st, o))
		return YOUNG;
	switch (link_stale(dir, e->sysv.key, e->st.st_dev)) {
	case 1: return UNUSED;
	case 0: return CHANGED;
	default: return UNKNOWN;
	}
}

/*
 * A key's stale link, under the key's lock, as shmget removes one: a
 * shmget that makes the key anew waits for us, and we check again that
 * the link is the one seen, and still names no segment with its key. The
 * link is unlinked, never followed.
 */
static int remove_key_link(struct entry *e, const struct clean_opts *o)
{
	char lock_name[SYSV_NAME_MAX];
	struct lock lk;
	enum verdict v;
	int err = 0, dir = root_for(e, o);

	if (dir < 0)
		return -1;
	/* Not waiting: a link whose key's lock is held (or planted) waits for another run. */
	if (lock_take(dir, key_lock_name(e->sysv.key, lock_name), 0, &lk) < 0) {
		close(dir);
		e->action = "kept";
		e->keep = KEEP_IN_USE;
		e->note = "its key's lock is held, or is not a lock file";
		return 0;
	}
	v = stale_again(dir, e, o);
	if (v == UNUSED && unlinkat(dir, strrchr(e->path, '/') + 1, 0) < 0)
		err = errno == EPERM ? EACCES : errno;
	lock_release(dir, lock_name, &lk);
	close_keep_errno(dir);
	return record(e, v, err, o);
}

/*
 * A stale temporary file: removed if its name's lock file is still free
 * and it is still the file listed. Its directory (a long name's hash
 * directory, or the root) is opened without following links and must be
 * root's or the file's owner's. A creator that takes the lock meanwhile
 * and finds its temporary file gone starts again.
 */
static int remove_temp(struct entry *e, const char *root)
{
	const char *leaf = strrchr(e->path, '/') + 1;
	/* Without the final slash, or O_NOFOLLOW would not refuse a link. */
	char *dir_path = strndup(e->path, (size_t)(leaf - 1 - e->path));
	char *lock = inventory_temp_lock(e->path);
	int dir = dir_path == NULL ? -1
		  : e->hashed ? open_beneath(root, dir_path, O_RDONLY | O_DIRECTORY)
			      : open_root(root);
	struct stat dir_st, st;

	if (dir_path == NULL) {
		perror("shmclean");
		exit(1);
	}
	e->action = "kept";
	if (dir < 0 || sys_fstat(dir, &dir_st) < 0 ||
	    (e->hashed && dir_st.st_uid != 0 && dir_st.st_uid != e->st.st_uid) ||
	    stat_nosync(dir, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != e->st.st_dev || st.st_ino != e->st.st_ino) {
		e->keep = KEEP_OTHER;
		e->note = "changed since the scan";
	} else if (inventory_lock_held(root, lock, e->st.st_dev)) {
		e->keep = KEEP_IN_USE;
		e->note = "held now";
	} else if (unlinkat(dir, leaf, 0) == 0 || errno == ENOENT) {
		e->action = "removed";
		if (e->hashed)
			(void)remove_hash_dir(root, dir_path);
	} else {
		e->action = "failed";
		e->error = errno == EPERM ? EACCES : errno;
	}
	if (dir >= 0)
		close(dir);
	free(dir_path);
	free(lock);
	return strcmp(e->action, "failed") == 0 ? -1 : 0;
}

/*
 * Records how the removal of a directory went (r: its result, errno): gone
 * (ENOENT too), kept because something appeared in it meanwhile, or failed.
 */
static int dir_removed(struct entry *e, int r)
{
	if (r == 0 || errno == ENOENT) {
		e->action = "removed";
		return 0;
	}
	if (errno == ENOTEMPTY || errno == EEXIST) {
		e->action = "kept";
		e->keep = KEEP_IN_USE;
		e->note = "in use now";
		return 0;
	}
	e->action = "failed";
	e->error = errno;
	return -1;
}

/* An empty hash directory: remove its empty subdirectories, then it. */
static int remove_dir(struct entry *e, const char *root)
{
	return dir_removed(e, remove_hash_dir(root, e->path));
}

/*
 * Empties the directory fd (closed here): its files, and its directories
 * after emptying them. Follows no link and enters no other file system
 * (a mount point inside is EBUSY), and at most TREE_DEPTH levels down,
 * so the recursion is bounded. Returns 0 or -1 with errno of the
 * first failure; goes on past failures, so that as much as may go goes.
 */
static int empty_tree(int fd, dev_t dev, int depth) /* NOLINT(misc-no-recursion): TREE_DEPTH */
{
	DIR *dir = fdopendir(fd);
	struct dirent *d;
	struct stat st;
	int result = 0, err = 0, sub;

	if (dir == NULL) {
		close_keep_errno(fd);
		return -1;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (stat_nosync(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue; /* gone meanwhile */
		if (st.st_dev != dev) {
			errno = EBUSY;
		} else if (!S_ISDIR(st.st_mode)) {
			if (unlinkat(dirfd(dir), d->d_name, 0) == 0)
				continue;
		} else if (depth >= TREE_DEPTH) {
			errno = ELOOP;
		} else {
			sub = openat(dirfd(dir), d->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (sub >= 0 && empty_tree(sub, dev, depth + 1) == 0 &&
			    unlinkat(dirfd(dir), d->d_name, AT_REMOVEDIR) == 0)
				continue;
		}
		if (result == 0)
			err = errno;
		result = -1;
	}
	closedir(dir);
	errno = err;
	return result;
}

/*
 * A directory or socket a program made as /dev/shm/NAME, that nobody
 * uses: what is in it, then it, if it is still what the scan saw.
 */
static int remove_tree(struct entry *e, const char *root)
{
	struct stat st;
	int fd = -1, r;

	if (S_ISDIR(e->st.st_mode)) {
		fd = open_beneath(root, e->path, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
		r = fd < 0 || sys_fstat(fd, &st) < 0 ? -1 : 0;
	} else {
		r = stat_nosync(AT_FDCWD, e->path, &st, AT_SYMLINK_NOFOLLOW);
	}
	if (r == 0 && (st.st_dev != e->st.st_dev || st.st_ino != e->st.st_ino)) {
		if (fd >= 0)
			close(fd);
		e->action = "kept";
		e->keep = KEEP_OTHER;
		e->note = "changed since the scan";
		return 0;
	}
	if (r == 0 && fd >= 0)
		r = empty_tree(fd, st.st_dev, 0);
	else if (fd >= 0)
		close(fd);
	if (r == 0)
		r = unlinkat(AT_FDCWD, e->path, S_ISDIR(e->st.st_mode) ? AT_REMOVEDIR : 0);
	return dir_removed(e, r);
}

/*
 * Whether e is to go, as the scan saw it: KEEP_NONE, or why it stays.
 * The age limit holds for everything a plain run removes, not only for
 * objects: a stale lock file or temporary file is harmless litter that
 * can wait, and an empty or unfinished hash directory may be one that a
 * creator has just made and is about to use (nothing tells, no lock).
 */
static enum keep_reason due(const struct entry *e, const struct clean_opts *o)
{
	switch (e->state) {
	case STATE_ORPHAN:
	case STATE_STALE:
	case STATE_EMPTY:
		break;
	case STATE_UNKNOWN:
		if (e->type == ENTRY_OBJECT && o->force)
			break;
		if (e->type == ENTRY_SYSV && o->force)
			break; /* a segment: as an object */
		return KEEP_UNKNOWN;
	case STATE_FOREIGN:
		return KEEP_FOREIGN;
	default: /* in use, held */
		return KEEP_IN_USE;
	}
	return young(&e->st, o) ? KEEP_YOUNG : KEEP_NONE;
}

int clean_entry(struct entry *e, const struct clean_opts *o)
{
	struct obj_path path;
	int result;

	e->keep = due(e, o);
	if (e->keep != KEEP_NONE) {
		e->action = "kept";
		if (e->keep == KEEP_YOUNG)
			e->note = o->young_note;
		return 0;
	}
	if (geteuid() != 0 && e->st.st_uid != geteuid()) {
		e->action = "kept";
		e->keep = KEEP_OTHER_USER;
		e->note = "owned by another user";
		return 0;
	}
	if (o->dry_run) {
		e->action = "would remove";
		return 0;
	}
	if (e->type == ENTRY_DIR)
		return remove_dir(e, o->cf->root);
	if (e->type == ENTRY_TEMP)
		return remove_temp(e, o->cf->root);
	if (e->type == ENTRY_TREE)
		return remove_tree(e, o->cf->root);
	if (e->type == ENTRY_SYSV)
		return remove_segment(e, o);
	if (e->type == ENTRY_SYSV_KEY)
		return remove_key_link(e, o);
	if (e->type == ENTRY_SYSV_LOCK)
		return remove_sysv_lock(e, o->cf->root);
	if (!map_entry(e, o->cf, &path)) {
		e->action = "kept";
		e->keep = KEEP_OTHER;
		e->note = "not where the shim would put that name";
		result = 0;
	} else {
		result = e->type == ENTRY_OBJECT ? remove_object(e, o, &path)
						 : remove_lock(e, &path);
	}
	path_release(&path);
	return result;
}

int clean_named(const struct config *cf, enum obj_kind kind, const char *name,
		bool *in_use)
{
	struct obj_path path;
	struct stat st;

	int r;

	*in_use = path_for_name(cf->root, cf->rules, cf->name_max, kind, name, &path) == 0 &&
		  stat_nosync(AT_FDCWD, path.data, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		  S_ISREG(st.st_mode) && users_in_use(cf->root, path.data, &st);
	path_release(&path);
	r = object_unlink(cf, kind, name, &path, NULL);
	path_release(&path);
	return r;
}
