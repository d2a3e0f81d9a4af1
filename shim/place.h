/* place.h - the directories that hold one object's files, opened safely. */
#ifndef SHMSHIM_PLACE_H
#define SHMSHIM_PLACE_H

#include <stdbool.h>

#include "lock.h"
#include "path.h"

struct place {
	const struct obj_path *path;
	int hash_fd;  /* hashed: the hash directory, else -1 */
	int lock_dir; /* directory of lock_leaf: AT_FDCWD when flat */
	int data_dir; /* directory of data_leaf: AT_FDCWD when flat, -1 if unopened */
	const char *lock_leaf;
	const char *data_leaf;
};

void place_init(struct place *pl, const struct obj_path *path);

/*
 * Takes the object's lock (see lock.h), creating the hashed layout's
 * directories as needed, and retrying when a concurrent call removes them
 * under us. Returns 0 or -1 with errno.
 */
int place_lock(struct place *pl, bool likely_new, long timeout_ms,
	       struct lock *lk);

/*
 * Releases the lock; unless keep_lock_file, removes the lock file and the
 * hashed layout's directories that are left empty. Closes the directories.
 * Keeps errno.
 */
void place_unlock(struct place *pl, struct lock *lk, bool keep_lock_file);

/*
 * Opens the directory of the data file (a no-op when flat), creating it if
 * create is set. Returns 0, or -1 with errno (ENOENT: it does not exist).
 */
int place_open_data_dir(struct place *pl, bool create);

/*
 * Whether anything (of any type) is at the data path, as far as the data
 * directory was opened (-1: it does not exist). Keeps errno.
 */
bool place_data_exists(const struct place *pl);

/*
 * The temporary name under which a new object is prepared before it is
 * linked into place (path->temp): <root>/.SEMTfoo for <root>/.SEMDfoo, or
 * .SEMT in a long name's hash directory, as arguments for the *at calls.
 * Only valid while the name's lock is held.
 */
void place_temp(const struct place *pl, int *dir, const char **leaf);

/*
 * Opens the data directory again, creating it: after a create in it
 * failed with ENOENT because it was removed. A no-op when flat.
 */
int place_reopen_data_dir(struct place *pl);

/* Closes the directories (after place_open_data_dir without the lock). */
void place_close(struct place *pl);

#endif
