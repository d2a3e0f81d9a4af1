/*
 * place.c - the directories of one object, and its lock.
 *
 * A flat object's files sit directly in the root, which the user chose and
 * we trust; they are reached by full path. A long name's files sit two
 * directories down in the shared, world-writable root, where anyone could
 * have put a symbolic link or a directory of their own in the way. Those
 * directories are therefore opened one component at a time, never
 * following a link.
 *
 * Whose directories we use is the ownership rule (DESIGN.md, "A shared
 * root is hostile"): the owner of a directory can rename and delete every
 * entry in it, sticky or not. So a directory is trusted only when it is
 * the caller's or root's, and only a trusted directory is ever created in
 * (objects, lock files, temporary names, subdirectories). A directory of
 * one other user is used for one thing: opening, or unlinking, an object
 * of that same user, who could have put anything there anyway. Anything
 * else there gives EACCES. (The alternative, a layout without shared
 * directories, would no longer be the illumos one.)
 *
 * Directories we create get mode 01777: sticky, so that users cannot
 * remove each other's files, unlike illumos' 0777. The umask would trim
 * mkdir's mode, and another user must never see the directory narrower,
 * so it is made under a temporary name (.<md5>~ or .<md5>~.SHMD, in the
 * root), given its mode, and renamed into place only if nothing is there
 * yet. A temporary directory left by a killed process is empty and
 * harmless; the next call that needs it, or shmclean, removes it.
 *
 * Directories are removed when they become empty, which can race with a
 * call creating a file in them: that call then sees ENOENT and makes the
 * directory again. shmclean removes empty directories of names it cannot
 * know (a hash is not reversible), so even the data directory may vanish
 * while a call works in it.
 *
 * An object's own lock is flock on its data file: the data file is the
 * object, so locking it needs no second file to create and remove, and
 * once it is locked and still linked, nobody can replace it at its path
 * until we let go (every remover takes this lock, and a creator cannot
 * create over an existing file).
 */
#define _GNU_SOURCE
#include "place.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "sysfile.h"

#define DIR_MODE 01777
#define RETRIES 64

/* ".<md5>~" and a subdirectory's name. */
#define TEMP_DIR_MAX (1 + MD5_HEX_LEN + 1 + PREFIX_LEN)

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE 1
#endif

void place_init(struct place *pl, const struct obj_path *path)
{
	pl->path = path;
	pl->refusal = NULL;
	pl->owner = NO_OWNER;
	if (path->hashed) {
		pl->hash_fd = pl->lock_dir = pl->data_dir = -1;
		pl->lock_leaf = pl->data_leaf = path->leaf;
	} else {
		pl->hash_fd = -1;
		pl->lock_dir = pl->data_dir = AT_FDCWD;
		pl->lock_leaf = path->lock;
		pl->data_leaf = path->data;
	}
}

static void close_dir(int *fd)
{
	int saved = errno;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}

void place_close(struct place *pl)
{
	if (!pl->path->hashed)
		return;
	close_dir(&pl->data_dir);
	close_dir(&pl->lock_dir);
	close_dir(&pl->hash_fd);
	pl->owner = NO_OWNER;
}

bool place_trusted(const struct place *pl)
{
	return pl->owner == NO_OWNER;
}

static bool owner_trusted(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/*
 * The temporary name, in the root, of a new directory of a long name:
 * <hash directory's name>~, followed by sub for one of its subdirectories
 * (".SHMD", ...). It is the same for every caller, so that the next call
 * that needs it removes one left by a killed process.
 */
static void temp_dir_name(const struct place *pl, const char *sub,
			  char out[TEMP_DIR_MAX + 1])
{
	const char *hash = strrchr(pl->path->hash_dir, '/') + 1;

	memcpy(out, hash, MD5_HEX_LEN + 1);
	out[MD5_HEX_LEN + 1] = '~';
	memcpy(out + MD5_HEX_LEN + 2, sub, strlen(sub) + 1);
}

/*
 * Makes the directory parent/name with mode DIR_MODE and returns it open,
 * never visible with another mode: made under its temporary name in the
 * root (so that a killed process leaves nothing inside our directories),
 * given its mode, and renamed into place unless something is there
 * already (then -1 with errno EEXIST). Another caller's temporary
 * directory is simply removed: if that caller is alive, its rename fails
 * with ENOENT and it tries again.
 */
static int make_dir(const struct place *pl, int parent, const char *name, int flags)
{
	const char *root = *pl->path->root ? pl->path->root : "/";
	char temp[TEMP_DIR_MAX + 1];
	int root_fd = sys_open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	int fd = -1, err = 0;

	if (root_fd < 0)
		return -1;
	temp_dir_name(pl, parent == AT_FDCWD ? "" : name, temp);
	for (int tries = 0; tries < RETRIES; tries++) {
		if (sys_mkdirat(root_fd, temp, 0700) < 0) {
			err = errno;
			if (err == EEXIST && sys_unlinkat(root_fd, temp, AT_REMOVEDIR) == 0)
				continue;
			break; /* another user's, or not empty: the plain way */
		}
		fd = sys_openat(root_fd, temp, flags, 0);
		if (fd >= 0 && fchmod(fd, DIR_MODE) == 0 &&
		    syscall(SYS_renameat2, root_fd, temp, parent, name, RENAME_NOREPLACE) == 0)
			break;
		err = errno;
		close_dir(&fd);
		(void)sys_unlinkat(root_fd, temp, AT_REMOVEDIR);
		if (err != ENOENT) /* ENOENT: another caller took the temporary one */
			break;
	}
	close(root_fd);
	if (fd >= 0)
		return fd;
	if (err == EEXIST && sys_exists(parent, name))
		return errno = EEXIST, -1; /* made by someone else meanwhile */
	if (err != EEXIST && err != ENOTEMPTY && err != EPERM && err != EACCES &&
	    err != EINVAL && err != ENOSYS && err != ENOENT)
		return errno = err, -1;
	/*
	 * The temporary name is blocked (by another user), or there is no
	 * RENAME_NOREPLACE (an old kernel, NFS): briefly narrower.
	 */
	if (sys_mkdirat(parent, name, DIR_MODE) < 0)
		return -1;
	fd = sys_openat(parent, name, flags, 0);
	if (fd >= 0 && fchmod(fd, DIR_MODE) < 0)
		close_dir(&fd);
	return fd;
}

/* Whether the open directory fd (AT_FDCWD: the root) has been removed. */
static bool removed(int fd)
{
	struct stat st;

	return fd != AT_FDCWD && sys_fstat(fd, &st) == 0 && st.st_nlink == 0;
}

/*
 * Opens the directory parent/name, creating it when asked and parent is
 * trusted, and records whose it is (see the top of the file).
 */
static int open_subdir(struct place *pl, int parent, const char *name, bool create)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

	create = create && place_trusted(pl);
	for (int tries = 0; tries < RETRIES; tries++) {
		struct stat st;
		int fd = sys_openat(parent, name, flags, 0);

		if (fd < 0 && errno == ENOENT && create) {
			fd = make_dir(pl, parent, name, flags);
			/*
			 * EEXIST: made by someone else meanwhile. ENOENT: removed
			 * (tidied) between its making and our open; again, unless
			 * it is the parent that was removed: the caller remakes it.
			 */
			if (fd < 0 && (errno == EEXIST || (errno == ENOENT && !removed(parent))))
				continue;
			/* Checked like any other: the plain way can be raced. */
		}
		if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
			return refuse(pl->refusal, EINVAL, "a symbolic link or a file is "
				      "where a long name's directory should be");
		if (fd < 0)
			return -1;
		if (sys_fstat(fd, &st) < 0) {
			close_dir(&fd);
			return -1;
		}
		if (owner_trusted(st.st_uid))
			return fd;
		if (pl->owner == NO_OWNER || pl->owner == st.st_uid) {
			pl->owner = st.st_uid;
			return fd;
		}
		/* Two other users on the way: either could swap the other's. */
		close(fd);
		return refuse(pl->refusal, EACCES, "a long name's directories belong "
			      "to two other users");
	}
	return refuse(pl->refusal, EAGAIN, WHY_CHANGING);
}

static int open_lock_dir(struct place *pl)
{
	if (!pl->path->hashed)
		return 0;
	if (pl->hash_fd < 0)
		pl->hash_fd = open_subdir(pl, AT_FDCWD, pl->path->hash_dir, true);
	if (pl->hash_fd < 0)
		return -1;
	pl->lock_dir = open_subdir(pl, pl->hash_fd, pl->path->lock_sub, true);
	return pl->lock_dir < 0 ? -1 : 0;
}

int place_open_data_dir(struct place *pl, bool create)
{
	if (!pl->path->hashed || pl->data_dir >= 0)
		return 0;
	for (int tries = 0; tries < RETRIES; tries++) {
		if (pl->hash_fd < 0)
			pl->hash_fd = open_subdir(pl, AT_FDCWD, pl->path->hash_dir, create);
		if (pl->hash_fd < 0)
			return -1;
		pl->data_dir = open_subdir(pl, pl->hash_fd, pl->path->data_sub, create);
		if (pl->data_dir >= 0)
			return 0;
		/* Missing in a directory we may not create in: it stays so. */
		if (errno != ENOENT || !create || !place_trusted(pl))
			return -1;
		/* The hash directory was removed under us: make it again. */
		close_dir(&pl->hash_fd);
		pl->owner = NO_OWNER;
	}
	return refuse(pl->refusal, EAGAIN, WHY_CHANGING);
}

void place_temp(const struct place *pl, int *dir, const char **leaf)
{
	if (pl->path->hashed) {
		/* In the hash directory, beside the data directory. */
		*dir = pl->hash_fd;
		*leaf = strrchr(pl->path->temp, '/') + 1;
	} else {
		*dir = AT_FDCWD;
		*leaf = pl->path->temp;
	}
}

int place_reopen_data_dir(struct place *pl)
{
	if (!pl->path->hashed)
		return 0;
	close_dir(&pl->data_dir);
	return place_open_data_dir(pl, true);
}

int place_open_existing(const struct place *pl, int flags, struct waiter *w)
{
	for (;;) {
		int fd = sys_openat(pl->data_dir, pl->data_leaf, flags | O_NONBLOCK, 0);

		if (fd >= 0 || errno != EWOULDBLOCK)
			return fd;
		/* A lease: shmclean is deciding whether to remove it. */
		if (wait_step(w) < 0)
			return refuse(pl->refusal, errno, "shmclean's lease on the object "
				      "outlasted SHMSHIM_LOCK_TIMEOUT_MS");
	}
}

/* Opens the data file for its lock: for reading, else for writing. */
static int open_for_lock(const struct place *pl, struct waiter *w)
{
	const int flags = O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
	int fd = place_open_existing(pl, O_RDONLY | flags, w);

	if (fd < 0 && errno == EACCES)
		fd = place_open_existing(pl, O_WRONLY | flags, w);
	return fd;
}

/*
 * Whether st is also the file at the temporary name: a semaphore being
 * created, or left so by a creator killed before it removed that name.
 */
static bool being_linked(const struct place *pl, const struct stat *st)
{
	struct stat temp;
	const char *leaf;
	int dir;

	place_temp(pl, &dir, &leaf);
	return sys_fstatat(dir, leaf, &temp, AT_SYMLINK_NOFOLLOW) == 0 &&
	       temp.st_dev == st->st_dev && temp.st_ino == st->st_ino;
}

int place_check_file(const struct place *pl, int fd, struct stat *st)
{
	if (sys_fstat(fd, st) < 0)
		return -1;
	if (!S_ISREG(st->st_mode))
		return refuse(pl->refusal, EINVAL, WHY_NOT_REGULAR);
	if (pl->owner != NO_OWNER && st->st_uid != pl->owner)
		return refuse(pl->refusal, EACCES, "the object is not its directory's "
			      "owner's (planted in another user's long-name directory)");
	if (st->st_nlink <= 1)
		return 0;
	/*
	 * A second link is a hard link to someone's file elsewhere, never to
	 * be used, but for one case: a semaphore whose creator (only where
	 * O_TMPFILE is missing) has linked it in and not yet removed its
	 * temporary name, or was killed before it could. It is whole either
	 * way (written before it was linked), and is used without waiting.
	 */
	if (st->st_nlink == 2 && pl->path->kind == KIND_SEM && being_linked(pl, st))
		return 0;
	/* The temporary name may have gone between our two looks. */
	if (sys_fstat(fd, st) < 0)
		return -1;
	return st->st_nlink <= 1 ? 0 : refuse(pl->refusal, EINVAL, WHY_HARD_LINK);
}

int place_irregular(const struct place *pl, int err)
{
	if (irregular_to_einval(err) == EINVAL && err != EINVAL)
		return refuse(pl->refusal, EINVAL, "a symbolic link, directory or "
			      "socket is at the object's path");
	return errno = err, -1;
}

int place_lock_object(const struct place *pl, struct waiter *w, struct stat *st)
{
	for (;;) {
		int fd = open_for_lock(pl, w);

		if (fd < 0)
			return place_irregular(pl, errno);
		if (lock_fd(fd, w) < 0) {
			close_keep_errno(fd);
			return errno == EAGAIN ? refuse(pl->refusal, EAGAIN, WHY_HELD) : -1;
		}
		if (place_check_file(pl, fd, st) < 0) {
			unlock_close(fd);
			return -1;
		}
		if (st->st_nlink > 0)
			return fd;
		/* The holder before us removed it: look again. */
		unlock_close(fd);
	}
}

void place_unlock_object(int fd)
{
	unlock_close(fd);
}

void place_data_dir_at(const struct place *pl, int *dir, const char **name)
{
	if (pl->path->hashed) {
		*dir = pl->data_dir;
		*name = ".";
	} else {
		*dir = AT_FDCWD;
		*name = *pl->path->root ? pl->path->root : "/";
	}
}

/* lstat of path: a directory of the caller's or root's. */
static bool trusted_dir_path(const struct place *pl, const char *path)
{
	struct stat st;

	if (sys_fstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return false;
	if (!S_ISDIR(st.st_mode))
		return refuse(pl->refusal, EINVAL, "a symbolic link or a file is where "
			      "a long name's directory should be"), false;
	if (!owner_trusted(st.st_uid))
		return refuse(pl->refusal, EACCES, "out of descriptors, only a long "
			      "name's directory of the caller's or root's is used"), false;
	return true;
}

int place_unlink_unlocked(const struct place *pl)
{
	const struct obj_path *p = pl->path;
	struct stat st;

	/*
	 * Nobody else can rename or replace a directory that is ours or
	 * root's, in a sticky root or in one of them, so the path is safe.
	 */
	if (p->hashed && (!trusted_dir_path(pl, p->hash_dir) ||
			  !trusted_dir_path(pl, p->data_parent)))
		return -1;
	if (sys_fstatat(AT_FDCWD, p->data, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -1;
	if (!S_ISREG(st.st_mode))
		return refuse(pl->refusal, EINVAL, WHY_NOT_REGULAR);
	if (st.st_nlink != 1)
		return refuse(pl->refusal, EINVAL, WHY_HARD_LINK);
	if (sys_unlinkat(AT_FDCWD, p->data, 0) < 0)
		return -1;
	if (p->hashed) {
		(void)sys_unlinkat(AT_FDCWD, p->data_parent, AT_REMOVEDIR);
		(void)sys_unlinkat(AT_FDCWD, p->hash_dir, AT_REMOVEDIR);
	}
	return 0;
}

void place_tidy(const struct place *pl)
{
	int saved = errno;

	/* Another user's directories are theirs to remove, even empty. */
	if (pl->path->hashed && pl->hash_fd >= 0 && place_trusted(pl)) {
		(void)sys_unlinkat(pl->hash_fd, pl->path->data_sub, AT_REMOVEDIR);
		(void)sys_unlinkat(AT_FDCWD, pl->path->hash_dir, AT_REMOVEDIR);
	}
	errno = saved;
}

/*
 * Removes the lock directory and the hash directory if they are empty:
 * after a failed lock, so that a failure leaves no directory behind, and
 * after the lock file is removed. Keeps errno.
 */
static void remove_lock_dirs(struct place *pl)
{
	int saved = errno;

	if (pl->path->hashed && pl->hash_fd >= 0 && place_trusted(pl)) {
		(void)sys_unlinkat(pl->hash_fd, pl->path->lock_sub, AT_REMOVEDIR);
		(void)sys_unlinkat(AT_FDCWD, pl->path->hash_dir, AT_REMOVEDIR);
	}
	errno = saved;
}

static int lock_once(struct place *pl, long timeout_ms, struct lock *lk)
{
	if (open_lock_dir(pl) < 0 && (errno != ENOENT || place_trusted(pl)))
		return -1;
	if (!place_trusted(pl))
		return refuse(pl->refusal, EACCES, "the name's lock file would be made "
			      "in another user's directory");
	if (lock_take(pl->lock_dir, pl->lock_leaf, timeout_ms, lk) == 0)
		return 0;
	if (errno == EAGAIN)
		return refuse(pl->refusal, EAGAIN, "another process held the name's "
			      "lock file longer than SHMSHIM_LOCK_TIMEOUT_MS");
	if (errno == EINVAL)
		return refuse(pl->refusal, EINVAL, "not a regular file at the name's "
			      "lock file path");
	return -1;
}

int place_lock(struct place *pl, long timeout_ms, struct lock *lk)
{
	for (int tries = 0; tries < RETRIES; tries++) {
		if (lock_once(pl, timeout_ms, lk) == 0)
			return 0;
		remove_lock_dirs(pl);
		place_close(pl);
		/* Only a hashed directory can vanish under a concurrent call. */
		if (errno != ENOENT || !pl->path->hashed)
			return -1;
	}
	return refuse(pl->refusal, EAGAIN, WHY_CHANGING);
}

void place_unlock(struct place *pl, struct lock *lk)
{
	int saved = errno;

	lock_release(pl->lock_dir, pl->lock_leaf, lk);
	if (pl->path->hashed) {
		if (pl->hash_fd >= 0 && place_trusted(pl))
			(void)sys_unlinkat(pl->hash_fd, pl->path->data_sub, AT_REMOVEDIR);
		remove_lock_dirs(pl);
	}
	place_close(pl);
	errno = saved;
}
