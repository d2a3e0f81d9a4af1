/* users.h - who uses an object: /proc, file leases and the lock. */
#ifndef SHMCLEAN_USERS_H
#define SHMCLEAN_USERS_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "inventory.h"

/*
 * Fills in the users of every object (processes with it open or mapped,
 * through /proc) and the state of every entry. Returns how many processes
 * could not be inspected.
 */
size_t users_classify(struct inventory *inv);

/*
 * The processes that have the file dev/ino open or mapped: their number,
 * stored in *users (malloc'd, may be NULL); *uninspectable counts the
 * processes that could not be looked at.
 */
size_t users_of(dev_t dev, ino_t ino, struct user **users, size_t *uninspectable);

/*
 * Whether the file at path (under root), seen as st, is open or mapped by
 * anyone: through /proc, or failing that, a lease refused.
 */
bool users_in_use(const char *root, const char *path, const struct stat *st);

enum lease {
	LEASE_FREE,        /* granted: no other open file description anywhere */
	LEASE_BUSY,        /* refused: open or mapped somewhere */
	LEASE_UNAVAILABLE, /* not ours to lease, or not supported here */
};

/* Tries a write lease on fd and gives it back at once unless keep. */
enum lease lease_try(int fd, bool keep);

/* Gives back a lease that lease_try kept. */
void lease_release(int fd);

/*
 * Whether someone has tried to open the file since lease_try kept its
 * lease: the kernel then starts to break the lease, and the opener waits
 * (or, with O_NONBLOCK, fails with EWOULDBLOCK and tries again).
 */
bool lease_broken(int fd);

#endif
