/*
 * object.c - opening and removing one named object's data file; the same
 * for every kind of object.
 *
 * Opening takes no lock. Each step it makes at the data path is one atomic
 * system call, an exclusive create or an open of what is there, and the
 * only thing any call ever puts there is a complete object (a semaphore is
 * written under a temporary name and linked in). So an open can neither
 * see nor leave anything half done, and no other call's critical section
 * can fall between its steps in a way that matters (DESIGN.md I1).
 *
 * Removing takes the object's own lock, flock on its data file (place.c),
 * so that removals of one object, and shmclean's decision to remove it,
 * never overlap. shmclean also holds a write lease while it decides, and
 * the kernel makes any open of a leased file wait. Opens of an existing
 * file therefore add O_NONBLOCK: a blocking open would wait out the lease
 * and then return the file shmclean had just removed; with O_NONBLOCK it
 * fails with EWOULDBLOCK, and we wait a little and look again.
 *
 * The name's lock file is used only where there is no file to lock:
 * creating a semaphore (its temporary name must be ours alone), and
 * removing an object the caller may unlink but can neither read nor write.
 *
 * It knows nothing of the public API, so the library and shmclean share it.
 */
#define _GNU_SOURCE
#include "object.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <sys/stat.h>
#include <unistd.h>

#include "place.h"
#include "sysfile.h"

/*
 * Flags for opening an existing data file (place_open_existing adds
 * O_NONBLOCK, which also keeps a FIFO from blocking us). O_NOFOLLOW
 * refuses a link.
 */
static int existing_flags(int oflag)
{
	return (oflag & O_ACCMODE) | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC;
}

/* Flags for creating a new file: only ever exclusively. */
static int create_flags(int oflag)
{
	return existing_flags(oflag) | O_CREAT | O_EXCL;
}

/*
 * Finishes opening an existing data file: it must be a regular file,
 * O_NONBLOCK comes off again, and O_TRUNC is applied only now, so that
 * nothing but a regular file is ever truncated.
 */
static int finish_existing(int fd, int oflag)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		goto fail;
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) < 0)
		goto fail;
	if ((oflag & O_TRUNC) && st.st_size != 0 && ftruncate(fd, 0) < 0)
		goto fail;
	return fd;
fail:
	close_keep_errno(fd);
	return -1;
}

static int write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Creates the data file with its content already in it: written under a
 * temporary name, then linked to the real one, so that nobody ever sees
 * it half made, even after a crash. Fails with EEXIST when the data path
 * exists. We hold the name's lock file, so the temporary name is ours
 * alone; one that exists is the leftover of a holder that died, and goes.
 */
static int create_initialised(struct place *pl, int oflag, mode_t mode,
			      const struct object_init *init)
{
	const int flags = create_flags(oflag);
	const char *tmp;
	int dir, fd, saved;

	place_temp(pl, &dir, &tmp);
	fd = openat(dir, tmp, flags, mode & 0777);
	if (fd < 0 && errno == EEXIST && unlinkat(dir, tmp, 0) == 0)
		fd = openat(dir, tmp, flags, mode & 0777);
	if (fd < 0)
		return -1;
	if (write_all(fd, init->data, init->len) == 0 &&
	    linkat(dir, tmp, pl->data_dir, pl->data_leaf, 0) == 0) {
		(void)unlinkat(dir, tmp, 0);
		return fd;
	}
	saved = errno;
	(void)unlinkat(dir, tmp, 0);
	close(fd);
	errno = saved;
	return -1;
}

/* Creates the data file, exclusively. */
static int create_data(struct place *pl, int oflag, mode_t mode,
		       const struct object_init *init)
{
	if (init)
		return create_initialised(pl, oflag, mode, init);
	return openat(pl->data_dir, pl->data_leaf, create_flags(oflag), mode & 0777);
}

/*
 * Opens the data file, as illumos does: with O_CREAT, first try to create
 * it exclusively; when it exists (and the caller did not ask for O_EXCL)
 * open it without O_CREAT, which also keeps fs.protected_regular from
 * refusing another user's object; if that finds it gone (removed
 * meanwhile), go round again.
 */
static int open_data(struct place *pl, int oflag, mode_t mode,
		     const struct object_init *init, long timeout_ms)
{
	const bool create = oflag & O_CREAT;
	struct waiter w;

	wait_start(&w, timeout_ms);
	if (place_open_data_dir(pl, create) < 0)
		return -1;
	for (int tries = 0; tries < 64; tries++) {
		int fd;

		if (create) {
			fd = create_data(pl, oflag, mode, init);
			if (fd >= 0)
				return fd;
			if (errno == ENOENT && pl->path->hashed) {
				/* Its directory was removed meanwhile. */
				if (place_reopen_data_dir(pl) < 0)
					return -1;
				continue;
			}
			if (errno != EEXIST || (oflag & O_EXCL))
				return -1;
		}
		fd = place_open_existing(pl, existing_flags(oflag), &w);
		if (fd >= 0)
			return finish_existing(fd, oflag);
		if (errno != ENOENT || !create)
			return errno = irregular_to_einval(errno), -1;
		/* Removed between our two steps: go round again. */
	}
	return errno = EAGAIN, -1;
}

static int check_access(int oflag)
{
	int acc = oflag & O_ACCMODE;

	if (acc != O_RDONLY && acc != O_RDWR)
		return EINVAL;
	/* POSIX leaves O_TRUNC with O_RDONLY undefined; refuse it. */
	if ((oflag & O_TRUNC) && acc == O_RDONLY)
		return EINVAL;
	return 0;
}

static int map_name(const struct config *cf, enum obj_kind kind,
		    const char *name, struct obj_path *path)
{
	int err = path_for_name(cf->root, cf->rules, cf->name_max, kind, name,
				path);

	if (err) {
		errno = err;
		return -1;
	}
	return 0;
}

/*
 * Creating a semaphore needs the lock file, which cannot be made in a
 * directory we may not write; nor could the semaphore. If it exists, the
 * call is an open: do that, as the kernel does for an O_CREAT open of an
 * existing file there (EEXIST with O_EXCL). Otherwise keep the error.
 */
static int open_in_readonly_dir(struct place *pl, int oflag, long timeout_ms)
{
	int err = errno, fd;

	if (err != EACCES && err != EROFS)
		return -1;
	fd = open_data(pl, oflag & ~(O_CREAT | O_EXCL), 0, NULL, timeout_ms);
	place_close(pl);
	if (fd >= 0 && (oflag & O_EXCL)) {
		close(fd);
		return errno = EEXIST, -1;
	}
	if (fd < 0 && errno == ENOENT)
		errno = err;
	return fd;
}

int object_open(const struct config *cf, enum obj_kind kind,
		const char *name, int oflag, mode_t mode,
		const struct object_init *init, struct obj_path *path)
{
	int err = check_access(oflag);
	struct place pl;
	struct lock lk;
	int fd;

	if (err) {
		errno = err;
		return -1;
	}
	if (map_name(cf, kind, name, path) < 0)
		return -1;
	place_init(&pl, path);
	if (init && (oflag & O_CREAT)) {
		/* The temporary name must be ours alone. */
		if (place_lock(&pl, cf->lock_timeout_ms, &lk) < 0)
			return open_in_readonly_dir(&pl, oflag, cf->lock_timeout_ms);
		fd = open_data(&pl, oflag, mode, init, cf->lock_timeout_ms);
		place_unlock(&pl, &lk);
		return fd;
	}
	fd = open_data(&pl, oflag, mode, NULL, cf->lock_timeout_ms);
	if (fd < 0 && (oflag & O_CREAT))
		place_tidy(&pl);
	place_close(&pl);
	return fd;
}

/*
 * Removes an object that the caller may unlink but can neither read nor
 * write, so cannot lock: under the name's lock file, which shmclean takes
 * as well. Closes the directories.
 */
static int unlink_under_lock_file(struct place *pl, long timeout_ms)
{
	struct lock lk;
	struct stat st;
	int r = -1;

	if (place_lock(pl, timeout_ms, &lk) < 0)
		return -1;
	if (place_open_data_dir(pl, false) == 0 &&
	    fstatat(pl->data_dir, pl->data_leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISREG(st.st_mode))
			r = unlinkat(pl->data_dir, pl->data_leaf, 0);
		else
			errno = EINVAL;
	}
	place_unlock(pl, &lk);
	return r;
}

int object_unlink(const struct config *cf, enum obj_kind kind,
		  const char *name, struct obj_path *path)
{
	struct place pl;
	struct waiter w;
	struct stat st;
	int r = -1;

	if (map_name(cf, kind, name, path) < 0)
		return -1;
	place_init(&pl, path);
	wait_start(&w, cf->lock_timeout_ms);
	if (place_open_data_dir(&pl, false) == 0) {
		int fd = place_lock_object(&pl, &w, &st);

		if (fd >= 0) {
			r = unlinkat(pl.data_dir, pl.data_leaf, 0);
			place_unlock_object(fd);
			if (r == 0)
				place_tidy(&pl);
		} else if (errno == EACCES) {
			r = unlink_under_lock_file(&pl, cf->lock_timeout_ms);
		}
	}
	place_close(&pl);
	/* A sticky directory says EPERM; POSIX says EACCES. */
	if (r < 0 && errno == EPERM)
		errno = EACCES;
	return r;
}
