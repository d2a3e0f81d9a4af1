/*
 * sysvseg.h - System V shared memory segments as files in the root: the
 * layout, finding a segment by key or id, making and removing one.
 */
#ifndef SHMSHIM_SYSVSEG_H
#define SHMSHIM_SYSVSEG_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "path.h"

/*
 * <root>/.SHVD<id>: the segment with id <id> (decimal, 1 to INT_MAX): a
 * header, then the memory from SYSV_DATA_OFF on.
 * <root>/.SHVK<key>: a symbolic link, never followed, whose text is the
 * id of the segment with that key (<key>: 8 lowercase hex digits).
 * <root>/.SHVL<key>: the lock file (lock.h) held while a key's link is
 * made or removed.
 */
#define SYSV_SEG_PREFIX ".SHVD"
#define SYSV_KEY_PREFIX ".SHVK"
#define SYSV_LOCK_PREFIX ".SHVL"

/*
 * Where the memory starts in a segment file: a multiple of every page
 * size Linux uses (4, 16 and 64 KiB), so that it can be mapped. The file
 * is sparse: the header takes one block.
 */
#define SYSV_DATA_OFF 65536

#define SYSV_MAGIC "SHVSEG1"

/* The header at the start of a segment file (native byte order). */
struct sysv_header {
	char magic[8];     /* SYSV_MAGIC, NUL-terminated */
	int32_t id;        /* must match the file's name */
	int32_t key;       /* IPC_PRIVATE (0) for a private segment */
	uint64_t size;     /* shm_segsz */
	uint32_t cuid;     /* creator's ids (the file's owner unless root changed it) */
	uint32_t cgid;
	int32_t cpid;      /* creator's and last shmat/shmdt caller's process */
	int32_t lpid;
	int64_t atime;     /* last shmat, shmdt, change (IPC_SET or creation) */
	int64_t dtime;
	int64_t ctime;
};

/* The file names of a segment and a key: ".SHVD123", ".SHVK0000162e". */
#define SYSV_NAME_MAX 24
void sysv_seg_name(int id, char out[SYSV_NAME_MAX]);
void sysv_key_name(const char *prefix, int32_t key, char out[SYSV_NAME_MAX]);

/*
 * Parses a segment's file name (".SHVD123") or a key link's (".SHVK...").
 * Returns true and the id or key when the name is one.
 */
bool sysv_parse_seg_name(const char *name, int *id);
bool sysv_parse_key_name(const char *name, int32_t *key);
/* The same for a key's lock file (".SHVL..."), for shmclean. */
bool sysv_parse_lock_name(const char *name, int32_t *key);

/* One segment, opened. */
struct sysv_seg {
	int fd;                 /* the segment file, or -1 (see sysv_seg_open) */
	bool header;            /* hdr was read from the file */
	struct stat st;         /* its status when opened */
	struct sysv_header hdr; /* its header; without one, only id and size */
};

/* How sysv_seg_open opens the file. */
#define SEG_STATUS (-1) /* for reading if the mode allows, else not at all */
/*
 * SEG_STATUS, but not waiting for a lease that holds the open back (it
 * fails with EAGAIN): for shmclean, which must wait for nobody.
 */
#define SEG_STATUS_NOWAIT (-2)

/*
 * Opens the segment with the given id in the root (root_fd: the root's
 * directory) with access O_RDONLY, O_RDWR or SEG_STATUS (or
 * SEG_STATUS_NOWAIT), and checks it: a regular file with one link, a
 * valid header naming that id, at least as long as its memory, owned by
 * root_owner when that is not (uid_t)-1 (a root that is another user's
 * directory). With SEG_STATUS a file its mode keeps the caller from
 * reading is not opened (fd -1, no header, the size from the file's).
 * Returns 0, or -1 with errno: EINVAL (no such segment, or not a valid
 * one), EACCES (the file's mode refuses it), or another. why receives the
 * reason of a refusal of the shim's own.
 */
int sysv_seg_open(int root_fd, uid_t root_owner, int id, int access,
		  struct sysv_seg *seg, struct refusal *why);

/* Closes seg's file. Keeps errno. */
void sysv_seg_close(struct sysv_seg *seg);

/*
 * Reads the id a key's link names: returns the id, 0 when there is no
 * link for key, or -1 with errno (EINVAL: something other than a link
 * with a number at the key's name).
 */
int sysv_key_read(int root_fd, int32_t key);

/*
 * Finds the segment of key, opened as sysv_seg_open does: one whose link
 * names it and whose header has that key (or, when the caller cannot read
 * it, whose link has the file's owner). Returns its id, 0 when the key
 * has no segment, or -1 with errno.
 */
int sysv_key_find(int root_fd, uid_t root_owner, int32_t key, int access,
		  struct sysv_seg *seg, struct refusal *why);

/*
 * Makes a segment of size bytes and mode's permission bits, with key
 * (IPC_PRIVATE: none), and leaves it open for reading and writing in seg.
 * With a key, under the key's lock: when the key has a segment by then,
 * returns 1 with nothing made (the caller looks again); a stale link is
 * removed. Returns 0 (made), 1, or -1 with errno (EACCES: another user's
 * stale link cannot be removed; EAGAIN: the lock was held too long).
 */
int sysv_seg_create(int root_fd, int32_t key, uint64_t size, mode_t mode,
		    long timeout_ms, struct sysv_seg *seg, struct refusal *why);

/*
 * Removes the segment seg: its key's link if it names it (when the header
 * tells the key and the key's lock can be had) and its file, if the file
 * at its name is still seg's. Returns 0 or -1 with errno.
 */
int sysv_seg_remove(int root_fd, const struct sysv_seg *seg, long timeout_ms);

/*
 * sysv_seg_remove for a caller that holds the key's lock already
 * (shmclean, which takes it before its lease on the file): removes key's
 * link if it names seg's id (key: the segment's; IPC_PRIVATE, 0, for
 * none), then seg's file if the file at its name is still seg's. Returns
 * 0 or -1 with errno (EINVAL: the file was removed meanwhile).
 */
int sysv_seg_unlink(int root_fd, const struct sysv_seg *seg, int32_t key);

/*
 * Writes seg's header back (after a change of its times or ids). Returns
 * 0 or -1 with errno.
 */
int sysv_seg_write_header(const struct sysv_seg *seg);

#endif
