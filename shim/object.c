/*
 * object.c - opening and removing one named object's data file under the
 * name's lock; the same for every kind of object.
 *
 * Each call checks and maps the name, takes the name's lock, does its one
 * operation on the data file, and releases the lock, leaving the lock file
 * behind only while the object exists (DESIGN.md I3). It knows nothing of
 * the public API, so the library and shmclean share it.
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
 * Flags for opening an existing data file. O_NOFOLLOW refuses a link. A
 * FIFO opened read-only would block until a writer came, so a read-only
 * open adds O_NONBLOCK (finish_existing takes it off again); opened
 * read-write, a FIFO never blocks on Linux, and leaving O_NONBLOCK out
 * saves a system call on the common path.
 */
static int existing_flags(int oflag)
{
	int acc = oflag & O_ACCMODE;

	return acc | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC |
	       (acc == O_RDONLY ? O_NONBLOCK : 0);
}

/*
 * Finishes opening an existing data file: it must be a regular file, and
 * O_TRUNC is applied only now, so that nothing but a regular file is ever
 * truncated.
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
	if ((existing_flags(oflag) & O_NONBLOCK) && fcntl(fd, F_SETFL, 0) < 0)
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
 * exists. We hold the name's lock, so the temporary name is ours alone; one
 * that exists is the leftover of a holder that died, and goes.
 */
static int create_initialised(struct place *pl, int oflag, mode_t mode,
			      const struct object_init *init)
{
	const int flags = (oflag & O_ACCMODE) | O_CREAT | O_EXCL | O_NOFOLLOW |
			  O_NOCTTY | O_CLOEXEC;
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
	return openat(pl->data_dir, pl->data_leaf,
		      (oflag & O_ACCMODE) | O_CREAT | O_EXCL | O_NOFOLLOW |
			      O_NOCTTY | O_CLOEXEC,
		      mode & 0777);
}

/*
 * Opens the data file under the lock, as illumos does: with O_CREAT, first
 * try to create it exclusively; when it exists (and the caller did not ask
 * for O_EXCL) open it without O_CREAT, which also keeps fs.protected_regular
 * from refusing another user's object; if that finds it gone (removed by a
 * program outside the shim), go round again.
 */
static int open_data(struct place *pl, int oflag, mode_t mode,
		     const struct object_init *init, bool *created)
{
	const bool create = oflag & O_CREAT;

	if (place_open_data_dir(pl, create) < 0)
		return -1;
	for (int tries = 0; tries < 64; tries++) {
		int fd;

		if (create) {
			fd = create_data(pl, oflag, mode, init);
			if (fd >= 0) {
				*created = true;
				return fd;
			}
			if (errno == ENOENT && pl->path->hashed) {
				/*
				 * shmclean removed the long name's empty data
				 * directory (it cannot know whose it was).
				 */
				if (place_reopen_data_dir(pl) < 0)
					return -1;
				continue;
			}
			if (errno != EEXIST || (oflag & O_EXCL))
				return -1;
		}
		fd = openat(pl->data_dir, pl->data_leaf, existing_flags(oflag));
		if (fd >= 0)
			return finish_existing(fd, oflag);
		if (errno != ENOENT || !create)
			return errno = irregular_to_einval(errno), -1;
		/* A program outside the shim removed it: go round again. */
	}
	return errno = EAGAIN, -1;
}

/*
 * When the lock file cannot be created because the directory is read-only
 * to us, a plain open (no O_CREAT, no O_TRUNC) goes ahead without it: we
 * could not create or remove anything there anyway, the open is a single
 * system call, and a read-only root of prepared objects then works as
 * POSIX expects (ENOENT for a missing object, not EACCES).
 */
static int open_without_lock(struct place *pl, int oflag)
{
	bool created;
	int fd;

	if ((oflag & (O_CREAT | O_TRUNC)) || (errno != EACCES && errno != EROFS))
		return -1;
	fd = open_data(pl, oflag, 0, NULL, &created);
	place_close(pl);
	return fd;
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

int object_open(const struct config *cf, enum obj_kind kind,
		const char *name, int oflag, mode_t mode,
		const struct object_init *init, struct obj_path *path)
{
	int err = check_access(oflag);
	bool exclusive = (oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL);
	bool created = false;
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
	if (place_lock(&pl, exclusive, cf->lock_timeout_ms, &lk) < 0)
		return open_without_lock(&pl, oflag);
	fd = open_data(&pl, oflag, mode, init, &created);
	/*
	 * Keep the lock file only for an object that exists, and only if it
	 * was there before or this call made the object: then the lock file
	 * always belongs to the object's owner, who can remove it later even
	 * from a sticky directory.
	 */
	bool exists = fd >= 0 || (errno != ENOENT && place_data_exists(&pl));
	place_unlock(&pl, &lk, exists && (!lk.created || created));
	return fd;
}

int object_unlink(const struct config *cf, enum obj_kind kind,
		  const char *name, struct obj_path *path)
{
	struct place pl;
	struct lock lk;
	int r = -1;

	if (map_name(cf, kind, name, path) < 0)
		return -1;
	place_init(&pl, path);
	if (place_lock(&pl, false, cf->lock_timeout_ms, &lk) < 0)
		return -1;
	if (place_open_data_dir(&pl, false) == 0)
		r = unlinkat(pl.data_dir, pl.data_leaf, 0);
	if (r < 0)
		/* A sticky directory says EPERM; POSIX says EACCES. */
		errno = errno == EPERM ? EACCES : irregular_to_einval(errno);
	place_unlock(&pl, &lk, r < 0 && !lk.created && place_data_exists(&pl));
	return r;
}
