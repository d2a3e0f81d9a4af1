/* clean.h - removing orphaned objects, stale locks and empty directories. */
#ifndef SHMCLEAN_CLEAN_H
#define SHMCLEAN_CLEAN_H

#include <stdbool.h>
#include <time.h>

#include "config.h"
#include "inventory.h"

struct clean_opts {
	const struct config *cf;
	bool dry_run;
	bool force;       /* remove unknown objects too */
	long older_than;  /* seconds: nothing that changed more recently goes */
	time_t now;
	const char *young_note; /* the note of what is kept for its age */
};

/*
 * Decides whether e is to go and, unless dry_run, removes it under the
 * same locks as shm_unlink after checking again that nobody uses it and
 * that it has not changed within o->older_than. Sets e->action
 * ("removed", "would remove", "kept", "failed") and e->keep, e->note or
 * e->error. Returns -1 when a removal that was due failed, else 0.
 */
int clean_entry(struct entry *e, const struct clean_opts *o);

/*
 * shmclean -r: unlinks the named object as shm_unlink would, whatever its
 * age and state (the user named it). Sets
 * *in_use when something had it open or mapped just before. Returns 0 or
 * -1 with errno.
 */
int clean_named(const struct config *cf, enum obj_kind kind, const char *name,
		bool *in_use);

#endif
