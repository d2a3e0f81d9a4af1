/* inventory.h - what shmshim files a root holds, as a list of entries. */
#ifndef SHMCLEAN_INVENTORY_H
#define SHMCLEAN_INVENTORY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "path.h"

enum entry_type {
	ENTRY_OBJECT, /* a data file: .SHMDfoo */
	ENTRY_LOCK,   /* a lock file: .SHMLfoo */
	ENTRY_DIR,    /* a long names' hash directory with nothing in it, or
			 one left unfinished (.<md5>~...) */
	ENTRY_TEMP,   /* a semaphore's temporary file: .SEMTfoo */
	ENTRY_TREE,   /* a directory or socket a program made as /dev/shm/foo
			 (shim/devpath.c), at .SHMDfoo: st is the slot's,
			 but its ctime the newest in the tree */
	ENTRY_SYSV,      /* a System V segment: .SHVD<id> (shim/sysvseg.h) */
	ENTRY_SYSV_KEY,  /* a segment's key: the symbolic link .SHVK<key> */
	ENTRY_SYSV_LOCK, /* a key's lock file: .SHVL<key> */
};

/* What the names and headers of System V files tell (ENTRY_SYSV...). */
struct sysv_info {
	int id;         /* segment: its id; key link: the id it names, or 0 */
	int32_t key;    /* the key (a segment's only when key_known) */
	bool key_known; /* segment: its header, or a link of its key, tells it */
	bool header;    /* segment: its header was read */
	bool linked;    /* key link: it names a segment with its key (not stale) */
	uint64_t size;  /* segment: its size, without the header (shm_segsz) */
};

/* Deeper than this, a tree (ENTRY_TREE) is neither walked nor removed. */
#define TREE_DEPTH 32

enum entry_state {
	STATE_IN_USE,  /* object: a live process has it open or mapped */
	STATE_ORPHAN,  /* object: nobody has it */
	STATE_UNKNOWN, /* object: could not tell */
	STATE_FOREIGN, /* looks like ours but is not a regular file etc. */
	STATE_HELD,    /* lock, temporary file: a process holds the lock */
	STATE_STALE,   /* lock, temporary file: left by a holder that was killed */
	STATE_EMPTY,   /* directory: empty */
};

/* Why cleaning kept an entry, for the summary that counts them. */
enum keep_reason {
	KEEP_NONE,       /* not kept: removed, would be, or failed */
	KEEP_IN_USE,     /* in use, or its lock held, at the scan or after it */
	KEEP_YOUNG,      /* changed more recently than the age limit */
	KEEP_UNKNOWN,    /* whether it is in use could not be told */
	KEEP_FOREIGN,    /* not a file the shim made: never touched */
	KEEP_OTHER_USER, /* another user's, and we are not root */
	KEEP_OTHER,      /* changed or gone since the scan, or misplaced */
};
#define N_KEEP_REASONS (KEEP_OTHER + 1)

struct user {
	pid_t pid;
	char comm[32];
};

struct entry {
	enum entry_type type;
	enum obj_kind kind;
	bool hashed;          /* in the long-name layout */
	char *name;           /* the POSIX name, "/foo"; NULL for a directory
				 and a long name's temporary file */
	char *path;           /* the file or directory */
	struct stat st;       /* lstat of path */
	enum entry_state state;
	const char *note;     /* why foreign, or what happened */
	struct user *users;
	size_t n_users;
	const char *action;   /* what cleaning did: "removed", "kept", ... */
	enum keep_reason keep; /* why, when it was kept */
	int error;            /* errno of a failed removal */
	int tree_leases;      /* tree: TREE_FREE, or TREE_BUSY and TREE_UNSURE
				 as leases on its files found them (users.c) */
	struct sysv_info sysv; /* System V entries only */
};

#define TREE_FREE 0
#define TREE_BUSY 1   /* a lease on a file in it was refused: open somewhere */
#define TREE_UNSURE 2 /* a file in it could not be leased */
#define TREE_DEEP 4   /* deeper than TREE_DEPTH: not all of it was seen */

struct inventory {
	struct entry *v;
	size_t n, cap;
	const char *root; /* as given to inventory_scan */
	dev_t dev;        /* the root's file system */
};

/*
 * Lists root, sorted by kind and name, each object followed by its lock.
 * Returns 0, or -1 with errno when root cannot be read.
 */
int inventory_scan(struct inventory *inv, const char *root);

/*
 * Whether the lock file at path, under root (or, for a directory, any
 * file in it) is held by a live process right now. Only files on the
 * file system dev are looked at, reached without following links.
 */
bool inventory_lock_held(const char *root, const char *path, dev_t dev);

/*
 * The lock file of a temporary file (.SEMTfoo: .SEMLfoo), or, for a long
 * name's <hash>/.SEMT, the directory of its lock files (<hash>/.SEML).
 * malloc'd.
 */
char *inventory_temp_lock(const char *temp_path);

/*
 * The lock entry of the object or segment inv->v[i], or NULL. Entries of
 * System V go by key, then segments (by id), key link, lock file.
 */
const struct entry *inventory_lock_of(const struct inventory *inv, size_t i);

/* The key link that names the segment inv->v[i], or NULL. */
const struct entry *inventory_link_of(const struct inventory *inv, size_t i);

/* The segment that the key link inv->v[i] names, or NULL. */
const struct entry *inventory_segment_of(const struct inventory *inv, size_t i);

/* Whether e is one of System V's files (ENTRY_SYSV...). */
bool entry_is_sysv(const struct entry *e);
void inventory_free(struct inventory *inv);

const char *state_name(enum entry_state state);
const char *kind_name(enum obj_kind kind);
/* e's kind as the output names it: "shm", "sem" or "sysv". */
const char *entry_kind(const struct entry *e);

#endif
