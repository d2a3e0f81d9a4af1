/*
 * place.h - the directories that hold one object's files, opened safely,
 * and the object's locks.
 */
#ifndef SHMSHIM_PLACE_H
#define SHMSHIM_PLACE_H

#include <stdbool.h>
#include <sys/stat.h>

#include "lock.h"
#include "path.h"

/* Reasons given by more than one check (see struct refusal). */
#define WHY_NOT_REGULAR "not a regular file at the object's path (a FIFO, directory, " \
	"socket or device)"
#define WHY_HARD_LINK "the object's file has another link (a hard link to a file elsewhere)"
#define WHY_HELD "another process held the object's lock longer than SHMSHIM_LOCK_TIMEOUT_MS"
#define WHY_CHANGING "the object's files or directories kept changing under the call"

/* place.owner when every directory on the way is the caller's or root's. */
#define NO_OWNER ((uid_t)-1)

struct place {
	const struct obj_path *path;
	struct refusal *refusal; /* where to say why a check refused, or NULL */
	uid_t owner;  /* owner of a directory on the way that is neither the
			 caller's nor root's, or NO_OWNER */
	int hash_fd;  /* hashed: the hash directory, else -1 */
	int lock_dir; /* directory of lock_leaf: AT_FDCWD when flat */
	int data_dir; /* directory of data_leaf: AT_FDCWD when flat, -1 if unopened */
	const char *lock_leaf;
	const char *data_leaf;
};

void place_init(struct place *pl, const struct obj_path *path);

/*
 * -1 with errno err; a symbolic link, directory or socket where a data
 * file was opened (ELOOP, EISDIR, ENXIO) is EINVAL, with its reason.
 */
int place_irregular(const struct place *pl, int err);

/*
 * Opens the directory of the data file (a no-op when flat), creating it if
 * create is set, and again if a concurrent call removes it meanwhile. A
 * directory of another user is used but never created in (see
 * place_trusted). Returns 0, or -1 with errno (ENOENT: it does not
 * exist; EACCES: directories of two other users on the way).
 */
int place_open_data_dir(struct place *pl, bool create);

/*
 * Whether the directories opened so far are all the caller's or root's:
 * only then may anything be created in them. In a directory of another
 * user, that user can rename and delete every entry, so the only file
 * worth opening there is one of that same user's.
 */
bool place_trusted(const struct place *pl);

/*
 * Checks that the open data file fd is one we may use, storing its status
 * in *st: a regular file (else EINVAL), owned by the owner of any
 * untrusted directory on the way (else EACCES), with one link (else
 * EINVAL: a hard link to a file elsewhere), or none when it was removed
 * meanwhile. A semaphore may have a second link at its temporary name
 * (see place.c). Returns 0 or -1 with errno.
 */
int place_check_file(const struct place *pl, int fd, struct stat *st);

/*
 * The directory a new data file goes in, as arguments for openat: the
 * data directory (hashed), or the root (flat).
 */
void place_data_dir_at(const struct place *pl, int *dir, const char **name);

/*
 * Removes the data file without a descriptor to lock it with (the process
 * has none left): only when every directory on the way is the caller's or
 * root's, so that nobody can swap them, and the file is a regular file
 * with one link. Returns 0 or -1 with errno.
 */
int place_unlink_unlocked(const struct place *pl);

/*
 * Opens the existing data file with flags (O_NONBLOCK is added: see
 * object.c). While someone holds a lease on it, waits as w allows.
 * Returns the descriptor, or -1 with errno.
 */
int place_open_existing(const struct place *pl, int flags, struct waiter *w);

/*
 * Takes the object's own lock: flock(LOCK_EX) on its data file, opened
 * for reading (or for writing when reading is not allowed), waiting as w
 * allows. Returns the descriptor with *st describing the file, which
 * passed place_check_file and is still linked at the data path, or -1
 * with errno: ENOENT, EINVAL (not a regular file with one link), EACCES
 * (cannot be opened at all), EAGAIN (time-out), or another.
 */
int place_lock_object(const struct place *pl, struct waiter *w, struct stat *st);

/* Releases the object's lock and closes fd. Keeps errno. */
void place_unlock_object(int fd);

/*
 * Removes the long name's data and hash directories if they are empty
 * (after an unlink, or a create that failed). A no-op when flat. Keeps
 * errno.
 */
void place_tidy(const struct place *pl);

/*
 * Takes the name's lock file (see lock.h), creating the hashed layout's
 * directories as needed, and retrying when a concurrent call removes them
 * under us. Returns 0 or -1 with errno (EACCES when a directory on the way
 * is another user's: the lock file would be made in it).
 */
int place_lock(struct place *pl, long timeout_ms, struct lock *lk);

/*
 * Releases the name's lock file and removes it, with the hashed layout's
 * directories that are left empty. Closes the directories. Keeps errno.
 */
void place_unlock(struct place *pl, struct lock *lk);

/*
 * The temporary name under which a new object is prepared before it is
 * linked into place (path->temp): <root>/.SEMTfoo for <root>/.SEMDfoo, or
 * .SEMT in a long name's hash directory, as arguments for the *at calls.
 * Only valid while the name's lock file is held.
 */
void place_temp(const struct place *pl, int *dir, const char **leaf);

/*
 * Opens the data directory again, creating it: after a create in it
 * failed with ENOENT because it was removed. A no-op when flat.
 */
int place_reopen_data_dir(struct place *pl);

/* Closes the directories. */
void place_close(struct place *pl);

#endif
