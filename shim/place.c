/*
 * place.c - the directories of one object, and its lock.
 *
 * A flat object's files sit directly in the root, which the user chose and
 * we trust; they are reached by full path. A long name's files sit two
 * directories down in the shared, world-writable root, where anyone could
 * have put a symbolic link or a directory of their own in the way. Those
 * directories are therefore opened one component at a time, never
 * following a link, and a directory we did not create is used only when it
 * is sticky or our own (a non-sticky directory of another user would let
 * that user delete our objects). Directories we create get mode 01777, set
 * by fchmod because the umask trims mkdir's mode; sticky, so that users
 * cannot remove each other's files, unlike illumos' 0777.
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
#include <unistd.h>

#include "sysfile.h"

#define DIR_MODE 01777
#define RETRIES 64

void place_init(struct place *pl, const struct obj_path *path)
{
	pl->path = path;
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
}

static bool trusted_dir(const struct stat *st)
{
	return st->st_uid == geteuid() || st->st_uid == 0 ||
	       (st->st_mode & S_ISVTX);
}

/* Opens (creating when asked) the directory parent/name. */
static int open_subdir(int parent, const char *name, bool create)
{
	const int flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

	for (int tries = 0; tries < RETRIES; tries++) {
		bool made = false;
		struct stat st;
		int fd;

		if (create) {
			if (mkdirat(parent, name, DIR_MODE) == 0)
				made = true;
			else if (errno != EEXIST)
				return -1;
		}
		fd = openat(parent, name, flags);
		if (fd < 0 && made) {
			/* Out of descriptors, say: take back what we made. */
			int saved = errno;

			(void)unlinkat(parent, name, AT_REMOVEDIR);
			errno = saved;
		}
		if (fd < 0) {
			if (errno == ENOENT && create)
				continue; /* removed between mkdir and open */
			if (errno == ELOOP || errno == ENOTDIR)
				errno = EINVAL; /* a link or file in the way */
			return -1;
		}
		if (fstat(fd, &st) < 0 || (made && fchmod(fd, DIR_MODE) < 0)) {
			close_dir(&fd);
			return -1;
		}
		if (!made && !trusted_dir(&st)) {
			close(fd);
			return errno = EACCES, -1;
		}
		return fd;
	}
	return errno = EAGAIN, -1;
}

static int open_lock_dir(struct place *pl)
{
	if (!pl->path->hashed)
		return 0;
	if (pl->hash_fd < 0)
		pl->hash_fd = open_subdir(AT_FDCWD, pl->path->hash_dir, true);
	if (pl->hash_fd < 0)
		return -1;
	pl->lock_dir = open_subdir(pl->hash_fd, pl->path->lock_sub, true);
	return pl->lock_dir < 0 ? -1 : 0;
}

int place_open_data_dir(struct place *pl, bool create)
{
	if (!pl->path->hashed || pl->data_dir >= 0)
		return 0;
	for (int tries = 0; tries < RETRIES; tries++) {
		if (pl->hash_fd < 0)
			pl->hash_fd = open_subdir(AT_FDCWD, pl->path->hash_dir, create);
		if (pl->hash_fd < 0)
			return -1;
		pl->data_dir = open_subdir(pl->hash_fd, pl->path->data_sub, create);
		if (pl->data_dir >= 0)
			return 0;
		if (errno != ENOENT || !create)
			return -1;
		/* The hash directory was removed under us: make it again. */
		close_dir(&pl->hash_fd);
	}
	return errno = EAGAIN, -1;
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
		int fd = openat(pl->data_dir, pl->data_leaf, flags | O_NONBLOCK);

		if (fd >= 0 || errno != EWOULDBLOCK)
			return fd;
		/* A lease: shmclean is deciding whether to remove it. */
		if (wait_step(w) < 0)
			return -1;
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

int place_lock_object(const struct place *pl, struct waiter *w, struct stat *st)
{
	for (;;) {
		int fd = open_for_lock(pl, w);

		if (fd < 0)
			return errno = irregular_to_einval(errno), -1;
		if (lock_fd(fd, w) < 0 || fstat(fd, st) < 0) {
			close_keep_errno(fd);
			return -1;
		}
		if (!S_ISREG(st->st_mode)) {
			close(fd);
			return errno = EINVAL, -1;
		}
		if (st->st_nlink > 0)
			return fd;
		/* The holder before us removed it: look again. */
		close(fd);
	}
}

void place_unlock_object(int fd)
{
	unlock_fd(fd);
	close_keep_errno(fd);
}

void place_tidy(const struct place *pl)
{
	int saved = errno;

	if (pl->path->hashed && pl->hash_fd >= 0) {
		(void)unlinkat(pl->hash_fd, pl->path->data_sub, AT_REMOVEDIR);
		(void)unlinkat(AT_FDCWD, pl->path->hash_dir, AT_REMOVEDIR);
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

	if (pl->path->hashed && pl->hash_fd >= 0) {
		(void)unlinkat(pl->hash_fd, pl->path->lock_sub, AT_REMOVEDIR);
		(void)unlinkat(AT_FDCWD, pl->path->hash_dir, AT_REMOVEDIR);
	}
	errno = saved;
}

int place_lock(struct place *pl, long timeout_ms, struct lock *lk)
{
	for (int tries = 0; tries < RETRIES; tries++) {
		if (open_lock_dir(pl) == 0 &&
		    lock_take(pl->lock_dir, pl->lock_leaf, timeout_ms, lk) == 0)
			return 0;
		remove_lock_dirs(pl);
		place_close(pl);
		/* Only a hashed directory can vanish under a concurrent call. */
		if (errno != ENOENT || !pl->path->hashed)
			return -1;
	}
	return errno = EAGAIN, -1;
}

void place_unlock(struct place *pl, struct lock *lk)
{
	int saved = errno;

	lock_release(pl->lock_dir, pl->lock_leaf, lk);
	if (pl->path->hashed) {
		if (pl->hash_fd >= 0)
			(void)unlinkat(pl->hash_fd, pl->path->data_sub, AT_REMOVEDIR);
		remove_lock_dirs(pl);
	}
	place_close(pl);
	errno = saved;
}
