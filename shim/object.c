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
#include <string.h>
#include <stdio.h>
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
 * The kernel's fs.protected_regular rule for an O_CREAT open that finds a
 * file already there (fs/namei.c, may_create_in_sticky): refused when the
 * directory is sticky, the file belongs neither to the caller nor to the
 * directory's owner, and the directory is world-writable (level 1 and
 * up) or group-writable (level 2). glibc's shm_open is refused there in
 * /dev/shm; the shim's second step opens without O_CREAT, so it applies
 * the rule itself, with the setting read when the library was loaded.
 */
static bool protected_refuses(const struct config *cf, const struct place *pl,
			      const struct stat *file)
{
	struct stat dir;
	const char *name;
	int dir_fd;

	if (cf->protected_regular <= 0 || file->st_uid == geteuid())
		return false;
	place_data_dir_at(pl, &dir_fd, &name);
	if (sys_fstatat(dir_fd, name, &dir, 0) < 0)
		return true; /* cannot tell: refuse, as the safe side */
	if (!(dir.st_mode & S_ISVTX) || dir.st_uid == file->st_uid)
		return false;
	return (dir.st_mode & S_IWOTH) ||
	       (cf->protected_regular >= 2 && (dir.st_mode & S_IWGRP));
}

/*
 * Finishes opening an existing data file: it must pass place_check_file
 * (a regular file with one link, in directories it may be in), an O_CREAT
 * open must pass fs.protected_regular when protect is set (shared memory:
 * glibc's sem_open opens an existing semaphore without O_CREAT, so the
 * kernel never applies the rule there), O_NONBLOCK comes off again, and
 * O_TRUNC is applied only now, so that nothing but such a file is ever
 * truncated.
 */
static int finish_existing(const struct config *cf, const struct place *pl,
			   int fd, int oflag, bool protect)
{
	struct stat st;

	if (place_check_file(pl, fd, &st) < 0)
		goto fail;
	if (protect && (oflag & O_CREAT) && protected_refuses(cf, pl, &st)) {
		refuse(pl->refusal, EACCES, "fs.protected_regular: O_CREAT of another "
		       "user's file in a sticky directory");
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
 * errno of create_anonymous when this system cannot make a nameless file
 * and give it a name (no O_TMPFILE on this file system, or no /proc): the
 * caller then uses a temporary name under the name's lock file.
 */
#define NO_ANONYMOUS EOPNOTSUPP

/*
 * Writes "/proc/thread-self/fd/<fd>" to out. By hand rather than with
 * snprintf, whose frame in some C libraries (musl) is larger than the rest
 * of the call: a thread with the smallest stack allowed must be able to
 * create a semaphore.
 */
static void proc_fd_path(char out[40], int fd)
{
	static const char dir[] = "/proc/thread-self/fd/";
	char digits[12];
	int n = 0;

	do {
		digits[n++] = (char)('0' + fd % 10);
		fd /= 10;
	} while (fd > 0);
	memcpy(out, dir, sizeof dir - 1);
	out += sizeof dir - 1;
	while (n > 0)
		*out++ = digits[--n];
	*out = '\0';
}

/*
 * Creates the data file with its content already in it, so that nobody
 * ever sees it half made, even after a crash: written as a nameless file
 * (O_TMPFILE), then linked to the data path, which fails with EEXIST when
 * something is there. It never has a second name, needs no lock, and
 * leaves nothing behind when we die. Returns the descriptor or -1.
 */
static int create_anonymous(const struct place *pl, mode_t mode,
			    const struct object_init *init)
{
	char self[40];
	const char *dir_name;
	int dir, fd;

	place_data_dir_at(pl, &dir, &dir_name);
	fd = sys_openat(dir, dir_name, O_TMPFILE | O_RDWR | O_CLOEXEC, mode & 0777);
	if (fd < 0) {
		/* Old kernels say EISDIR; file systems without it, EOPNOTSUPP. */
		if (errno == EISDIR || errno == EOPNOTSUPP || errno == EINVAL)
			errno = NO_ANONYMOUS;
		return -1;
	}
	/*
	 * thread-self, not self: a thread that did unshare(CLONE_FILES) has a
	 * descriptor table of its own, and /proc/self/fd/N would name the
	 * main thread's N, some other file.
	 */
	proc_fd_path(self, fd);
	if (write_all(fd, init->data, init->len) == 0 &&
	    linkat(AT_FDCWD, self, pl->data_dir, pl->data_leaf, AT_SYMLINK_FOLLOW) == 0)
		return fd;
	/* No /proc (or before Linux 3.17, no thread-self) to name it through. */
	if (errno == ENOENT && !sys_exists(AT_FDCWD, "/proc/thread-self/fd"))
		errno = NO_ANONYMOUS;
	close_keep_errno(fd);
	return -1;
}

/*
 * Removes a file left at the temporary name by a creator of ours that was
 * killed. Anything else there (another user's file, which even root must
 * not delete, or a directory) blocks the name: EACCES.
 */
static int remove_leftover(const struct place *pl, int dir, const char *tmp)
{
	static const char why[] = "another user's file, or a directory, is at the "
				  "semaphore's temporary name (.SEMT)";
	struct stat st;

	if (sys_fstatat(dir, tmp, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid())
		return refuse(pl->refusal, EACCES, why);
	if (sys_unlinkat(dir, tmp, 0) < 0 && errno != ENOENT)
		return refuse(pl->refusal, EACCES, why);
	return 0;
}

/*
 * The same under a temporary name, where create_anonymous cannot work:
 * written as <root>/.SEMTfoo, then linked to the real name. We hold the
 * name's lock file, so the temporary name is ours alone; one that exists
 * is the leftover of a holder that died and goes, if it is ours (else
 * EACCES: shmclean removes it). Openers that see the second link
 * meanwhile use the semaphore all the same (place_check_file).
 */
static int create_named(struct place *pl, int oflag, mode_t mode,
			const struct object_init *init)
{
	const int flags = create_flags(oflag);
	const char *tmp;
	int dir;

	place_temp(pl, &dir, &tmp);
	for (int tries = 0; tries < 2; tries++) {
		int fd = sys_openat(dir, tmp, flags, mode & 0777), saved;

		if (fd < 0 && errno == EEXIST) {
			if (remove_leftover(pl, dir, tmp) < 0)
				return -1;
			fd = sys_openat(dir, tmp, flags, mode & 0777);
		}
		if (fd < 0)
			return -1;
		if (write_all(fd, init->data, init->len) == 0 &&
		    linkat(dir, tmp, pl->data_dir, pl->data_leaf, 0) == 0) {
			(void)sys_unlinkat(dir, tmp, 0);
			return fd;
		}
		saved = errno;
		(void)sys_unlinkat(dir, tmp, 0);
		close(fd);
		errno = saved;
		/* ENOENT: shmclean took the temporary file as stale; again. */
		if (saved != ENOENT)
			break;
	}
	return -1;
}

/*
 * Creates the data file, exclusively; with init, with that content, and
 * named_temp says which way (see create_anonymous).
 */
static int create_data(struct place *pl, int oflag, mode_t mode,
		       const struct object_init *init, bool named_temp)
{
	if (init && named_temp)
		return create_named(pl, oflag, mode, init);
	if (init)
		return create_anonymous(pl, mode, init);
	return sys_openat(pl->data_dir, pl->data_leaf, create_flags(oflag), mode & 0777);
}

#define IN_OTHERS_DIR "the object would be created in another user's directory"

/*
 * Opens the data file, as illumos does: with O_CREAT, first try to create
 * it exclusively; when it exists (and the caller did not ask for O_EXCL)
 * open it without O_CREAT (applying fs.protected_regular ourselves); if
 * that finds it gone (removed meanwhile), go round again. In a directory
 * of another user nothing is created: only an object of theirs is opened.
 */
static int open_data(const struct config *cf, struct place *pl, int oflag,
		     mode_t mode, const struct object_init *init, bool named_temp)
{
	bool create = oflag & O_CREAT;
	struct waiter w;

	wait_start(&w, cf->lock_timeout_ms);
	if (place_open_data_dir(pl, create) < 0) {
		if (errno == ENOENT && create && !place_trusted(pl))
			return refuse(pl->refusal, EACCES, IN_OTHERS_DIR);
		return -1;
	}
	create = create && place_trusted(pl);
	for (int tries = 0; tries < 64; tries++) {
		int fd;

		if (create) {
			fd = create_data(pl, oflag, mode, init, named_temp);
			if (fd >= 0)
				return fd;
			if (errno == ENOENT && pl->path->hashed) {
				/* Its directory was removed meanwhile. */
				if (place_reopen_data_dir(pl) < 0)
					return -1;
				/* Whoever made the new one decides again. */
				create = place_trusted(pl);
				continue;
			}
			if (errno != EEXIST || (oflag & O_EXCL))
				return -1;
		}
		fd = place_open_existing(pl, existing_flags(oflag), &w);
		if (fd >= 0) {
			if ((oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL)) {
				/* In another user's directory: it exists. */
				close(fd);
				return errno = EEXIST, -1;
			}
			return finish_existing(cf, pl, fd, oflag, init == NULL);
		}
		if (errno == ENOENT && (oflag & O_CREAT) && !create)
			return refuse(pl->refusal, EACCES, IN_OTHERS_DIR);
		if (errno != ENOENT || !create)
			return place_irregular(pl, errno);
		/* Removed between our two steps: go round again. */
	}
	return refuse(pl->refusal, EAGAIN, WHY_CHANGING);
}

int object_check_flags(int oflag, struct refusal *why)
{
	int acc = oflag & O_ACCMODE;

	if (acc != O_RDONLY && acc != O_RDWR)
		return refuse(why, EINVAL, "an object opens read-only or read-write "
			      "(POSIX allows EINVAL for O_WRONLY)");
	/* POSIX leaves O_TRUNC with O_RDONLY undefined; refuse it. */
	if ((oflag & O_TRUNC) && acc == O_RDONLY)
		return refuse(why, EINVAL, "O_TRUNC with O_RDONLY (POSIX leaves it undefined)");
	return 0;
}

static int map_name(const struct config *cf, enum obj_kind kind,
		    const char *name, struct obj_path *path, struct refusal *why)
{
	int err = cf->root_error;

	if (err == 0)
		err = path_for_name(cf->root, cf->rules, cf->name_max, kind,
				    name, path);
	if (err == 0)
		return 0;
	if (err == EINVAL || err == EISDIR || err == ENAMETOOLONG) {
		const char *reason = name_why(name, cf->rules, kind, cf->name_max);

		if (reason != NULL)
			return refuse(why, err, reason);
	}
	errno = err;
	return -1;
}

/*
 * What glibc's open answers for a name it cannot use (glibc mode only):
 * EINVAL, but for "." and "..", a directory there, what open(2) says of
 * one, EEXIST with O_CREAT|O_EXCL, and EISDIR otherwise, which glibc
 * turns into EINVAL.
 */
static int open_name_error(int err, int oflag)
{
	if (err != EISDIR)
		return err;
	return (oflag & (O_CREAT | O_EXCL)) == (O_CREAT | O_EXCL) ? EEXIST : EINVAL;
}

/* What glibc's unlink answers for a name it cannot use: ENOENT (it has
 * no file for it), and for "." and "..", unlink(2)'s EISDIR. */
static int unlink_name_error(const struct config *cf, int err)
{
	return err == EINVAL && cf->rules == NAME_GLIBC ? ENOENT : err;
}

/*
 * Creating a semaphore needs to write in the directory, which we may not
 * (EACCES, EROFS). If it exists, the call is an open: do that, as the
 * kernel does for an O_CREAT open of an existing file there (EEXIST with
 * O_EXCL). Otherwise keep the error.
 */
static int open_in_readonly_dir(const struct config *cf, struct place *pl, int oflag)
{
	int err = errno, fd;

	if (err != EACCES && err != EROFS)
		return -1;
	place_close(pl);
	fd = open_data(cf, pl, oflag & ~(O_CREAT | O_EXCL), 0, NULL, false);
	place_close(pl);
	if (fd >= 0 && (oflag & O_EXCL)) {
		close(fd);
		return errno = EEXIST, -1;
	}
	if (fd < 0 && errno == ENOENT)
		errno = err;
	return fd;
}

/*
 * Creates (or opens) an object with initial content: as a nameless file
 * where the system allows, else under a temporary name that the name's
 * lock file makes ours alone.
 */
static int open_initialised(const struct config *cf, struct place *pl, int oflag,
			    mode_t mode, const struct object_init *init)
{
	struct lock lk;
	int fd = open_data(cf, pl, oflag, mode, init, false);

	if (fd < 0 && errno == NO_ANONYMOUS) {
		place_close(pl);
		if (place_lock(pl, cf->lock_timeout_ms, &lk) < 0)
			return open_in_readonly_dir(cf, pl, oflag);
		fd = open_data(cf, pl, oflag, mode, init, true);
		place_unlock(pl, &lk);
		return fd;
	}
	if (fd < 0 && (errno == EACCES || errno == EROFS))
		return open_in_readonly_dir(cf, pl, oflag);
	if (fd < 0)
		place_tidy(pl);
	place_close(pl);
	return fd;
}

/* -1 with errno err, the answer that stands for the refusal's own. */
static int answer_instead(struct refusal *why, int err)
{
	if (why != NULL && why->err == errno)
		why->err = err;
	errno = err;
	return -1;
}

int object_open(const struct config *cf, enum obj_kind kind,
		const char *name, int oflag, mode_t mode,
		const struct object_init *init, struct obj_path *path,
		struct refusal *why)
{
	struct place pl;
	int fd;

	if (map_name(cf, kind, name, path, why) < 0)
		return answer_instead(why, open_name_error(errno, oflag));
	place_init(&pl, path);
	pl.refusal = why;
	if (init && (oflag & O_CREAT))
		return open_initialised(cf, &pl, oflag, mode, init);
	fd = open_data(cf, &pl, oflag, mode, NULL, false);
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
	    sys_fstatat(pl->data_dir, pl->data_leaf, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISREG(st.st_mode))
			refuse(pl->refusal, EINVAL, WHY_NOT_REGULAR);
		else if (st.st_nlink != 1)
			refuse(pl->refusal, EINVAL, WHY_HARD_LINK);
		else
			r = sys_unlinkat(pl->data_dir, pl->data_leaf, 0);
	}
	place_unlock(pl, &lk);
	return r;
}

/*
 * Out of descriptors, a program cleaning up must still be able to remove
 * its objects, as with glibc: then the object is removed by path, with
 * what checks need no descriptor (place_unlink_unlocked), and without the
 * lock: a concurrent remover or shmclean may then see ENOENT.
 */
static bool out_of_descriptors(void)
{
	return errno == EMFILE || errno == ENFILE;
}

int object_unlink(const struct config *cf, enum obj_kind kind,
		  const char *name, struct obj_path *path, struct refusal *why)
{
	struct place pl;
	struct waiter w;
	struct stat st;
	int r = -1;

	if (map_name(cf, kind, name, path, why) < 0)
		return answer_instead(why, unlink_name_error(cf, errno));
	place_init(&pl, path);
	pl.refusal = why;
	wait_start(&w, cf->lock_timeout_ms);
	if (place_open_data_dir(&pl, false) == 0) {
		int fd = place_lock_object(&pl, &w, &st);

		if (fd >= 0) {
			r = sys_unlinkat(pl.data_dir, pl.data_leaf, 0);
			place_unlock_object(fd);
			if (r == 0)
				place_tidy(&pl);
		} else if (errno == EACCES) {
			r = unlink_under_lock_file(&pl, cf->lock_timeout_ms);
		} else if (out_of_descriptors()) {
			r = place_unlink_unlocked(&pl);
		}
	} else if (out_of_descriptors()) {
		r = place_unlink_unlocked(&pl);
	}
	place_close(&pl);
	/* A sticky directory says EPERM; POSIX says EACCES. */
	if (r < 0 && errno == EPERM)
		refuse(why, EACCES, "in a sticky directory only the object's owner, the "
		       "directory's owner or root may remove it");
	return r;
}
