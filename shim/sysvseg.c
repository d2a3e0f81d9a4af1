/*
 * sysvseg.c - System V shared memory segments as files in the root.
 *
 * A segment is the file <root>/.SHVD<id>, its id chosen at random when it
 * is made (O_CREAT|O_EXCL, so two makers never share one): an id is then
 * valid in every process using the root, and an id held by a program past
 * the segment's removal (PostgreSQL keeps its segment's id in a file)
 * names nothing, or, with little chance, another segment whose header
 * tells it apart. A key is a symbolic link <root>/.SHVK<key> whose text is
 * the id: made with symlinkat, which is atomic, so a key never names a
 * half-made segment, and read with readlinkat, never followed. Keys are
 * made and removed only under the key's lock file (lock.h), so that a
 * link found stale (its segment gone) is not removed after someone made
 * it anew.
 *
 * Whom a segment belongs to, and who may use it, is the file's: its owner
 * and group are shm_perm.uid and gid, its mode bits the segment's mode,
 * and the kernel enforces them when the file is opened. The header holds
 * only what the file system does not (key, size, creator, times): anyone
 * who may write the segment may write the header too, and so can change
 * nothing but what they could already spoil.
 *
 * Removal unlinks the file at once: the memory lives on in the mappings
 * of the processes still attached and is freed with the last of them, as
 * the kernel frees a removed segment; but unlike Linux, a removed segment
 * can no longer be attached or looked at by its id.
 */
#define _GNU_SOURCE
#include "sysvseg.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "lock.h"
#include "sysfile.h"

void sysv_seg_name(int id, char out[SYSV_NAME_MAX])
{
	snprintf(out, SYSV_NAME_MAX, "%s%d", SYSV_SEG_PREFIX, id);
}

void sysv_key_name(const char *prefix, int32_t key, char out[SYSV_NAME_MAX])
{
	snprintf(out, SYSV_NAME_MAX, "%s%08x", prefix, (unsigned)key);
}

/* A decimal id: 1 to INT_MAX, no sign, no leading zero. */
static bool parse_id(const char *s, int *id)
{
	long long v = 0;

	if (*s < '1' || *s > '9')
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || (v = v * 10 + (*s - '0')) > INT_MAX)
			return false;
	}
	*id = (int)v;
	return true;
}

bool sysv_parse_seg_name(const char *name, int *id)
{
	return strncmp(name, SYSV_SEG_PREFIX, PREFIX_LEN) == 0 && parse_id(name + PREFIX_LEN, id);
}

/* prefix and a key in 8 lower-case hex digits: a key's link or lock file. */
static bool parse_key_file(const char *prefix, const char *name, int32_t *key)
{
	unsigned v = 0;
	const char *p = name + PREFIX_LEN;

	if (strncmp(name, prefix, PREFIX_LEN) != 0 || strlen(p) != 8)
		return false;
	for (; *p; p++) {
		int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 : -1;

		if (d < 0)
			return false;
		v = v << 4 | (unsigned)d;
	}
	*key = (int32_t)v;
	return true;
}

bool sysv_parse_key_name(const char *name, int32_t *key)
{
	return parse_key_file(SYSV_KEY_PREFIX, name, key);
}

bool sysv_parse_lock_name(const char *name, int32_t *key)
{
	return parse_key_file(SYSV_LOCK_PREFIX, name, key);
}

/* A header as a segment of this id must have it, on a file of st's size. */
static bool header_valid(const struct sysv_header *h, int id, const struct stat *st)
{
	return memcmp(h->magic, SYSV_MAGIC, sizeof h->magic) == 0 && h->id == id &&
	       h->size > 0 && h->size <= (uint64_t)st->st_size &&
	       (uint64_t)st->st_size - h->size >= SYSV_DATA_OFF;
}

/*
 * Opens the segment file: O_NOFOLLOW, and O_NONBLOCK, which keeps a FIFO
 * planted at the name from blocking the open. An open that breaks
 * shmclean's lease on the file waits for it (EWOULDBLOCK), for at most
 * timeout_ms.
 */
static int open_seg_file(int root_fd, const char *name, int flags, long timeout_ms)
{
	struct waiter w;
	int fd;

	wait_start(&w, timeout_ms);
	while ((fd = sys_openat_here(root_fd, name, flags | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0)) < 0 &&
	       errno == EWOULDBLOCK && wait_step(&w) == 0)
		;
	return fd;
}

/* The checks of the file itself: regular, one link, the root owner's. */
static int check_file(const struct stat *st, uid_t root_owner, struct refusal *why)
{
	if (!S_ISREG(st->st_mode) || st->st_nlink != 1)
		return refuse(why, EINVAL, "the segment's file is not a regular file with one link");
	if (root_owner != (uid_t)-1 && st->st_uid != root_owner)
		return refuse(why, EINVAL, "a segment file of another user than the root's owner");
	return 0;
}

/*
 * SEG_STATUS on a file the caller may not read: its status alone, the
 * size taken from the file's.
 */
static int status_only(int root_fd, const char *name, uid_t root_owner, int id,
		       struct sysv_seg *seg, struct refusal *why)
{
	if (sys_fstatat(root_fd, name, &seg->st, AT_SYMLINK_NOFOLLOW) < 0)
		return refuse(why, EINVAL, "no segment with this id (or it was removed)");
	if (check_file(&seg->st, root_owner, why) < 0)
		return -1;
	if (seg->st.st_size <= SYSV_DATA_OFF)
		return refuse(why, EINVAL, "the segment's file is too short");
	memset(&seg->hdr, 0, sizeof seg->hdr);
	seg->hdr.id = id;
	seg->hdr.size = (uint64_t)seg->st.st_size - SYSV_DATA_OFF;
	return 0;
}

int sysv_seg_open(int root_fd, uid_t root_owner, int id, int access,
		  struct sysv_seg *seg, struct refusal *why)
{
	char name[SYSV_NAME_MAX];
	bool nowait = access == SEG_STATUS_NOWAIT;

	seg->fd = -1;
	seg->header = false;
	if (id <= 0)
		return refuse(why, EINVAL, "not a segment id (ids are positive)");
	if (nowait)
		access = SEG_STATUS;
	sysv_seg_name(id, name);
	seg->fd = open_seg_file(root_fd, name, access == SEG_STATUS ? O_RDONLY : access,
				nowait ? 0 : config_get()->lock_timeout_ms);
	if (seg->fd < 0) {
		/* Refused: a segment the mode keeps from the caller, or no segment at all? */
		if (errno == EACCES)
			return status_only(root_fd, name, root_owner, id, seg, why) < 0 ? -1 :
			       access == SEG_STATUS ? 0 : refuse(why, EACCES, "the segment's file "
								  "mode does not let the caller open it");
		if (errno == ENOENT)
			return refuse(why, EINVAL, "no segment with this id (or it was removed)");
		if (errno == ELOOP || errno == ENXIO || errno == EISDIR || errno == EXDEV)
			return refuse(why, EINVAL, "not a regular file at the segment's path "
				      "(or another file system mounted there)");
		return -1;
	}
	if (sys_fstat(seg->fd, &seg->st) < 0 || check_file(&seg->st, root_owner, why) < 0)
		goto fail;
	if (pread(seg->fd, &seg->hdr, sizeof seg->hdr, 0) != (ssize_t)sizeof seg->hdr ||
	    !header_valid(&seg->hdr, id, &seg->st)) {
		refuse(why, EINVAL, "the segment's file has no valid header");
		goto fail;
	}
	seg->header = true;
	return 0;
fail:
	sysv_seg_close(seg);
	return -1;
}

void sysv_seg_close(struct sysv_seg *seg)
{
	if (seg->fd >= 0)
		close_keep_errno(seg->fd);
	seg->fd = -1;
}

int sysv_key_read(int root_fd, int32_t key)
{
	char name[SYSV_NAME_MAX], text[16];
	ssize_t n;
	int id;

	sysv_key_name(SYSV_KEY_PREFIX, key, name);
	n = readlinkat(root_fd, name, text, sizeof text - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -1;
	text[n] = '\0';
	if (!parse_id(text, &id)) {
		errno = EINVAL;
		return -1;
	}
	return id;
}

/* Whether the link of key and the segment file have the same owner. */
static bool link_owned_alike(int root_fd, int32_t key, const struct stat *seg_st)
{
	char name[SYSV_NAME_MAX];
	struct stat st;

	sysv_key_name(SYSV_KEY_PREFIX, key, name);
	return sys_fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       S_ISLNK(st.st_mode) && st.st_uid == seg_st->st_uid;
}

int sysv_key_find(int root_fd, uid_t root_owner, int32_t key, int access,
		  struct sysv_seg *seg, struct refusal *why)
{
	int id = sysv_key_read(root_fd, key);

	seg->fd = -1;
	seg->header = false;
	if (id <= 0)
		return id < 0 && errno == EINVAL ? 0 : id;
	if (sysv_seg_open(root_fd, root_owner, id, access, seg, why) < 0)
		return errno == EINVAL ? 0 : -1;
	if (seg->header ? seg->hdr.key == key : link_owned_alike(root_fd, key, &seg->st)) {
		seg->hdr.key = key;
		return id;
	}
	sysv_seg_close(seg);
	return 0;
}

/* A random id from 1 to INT_MAX. */
static int random_id(void)
{
	uint32_t v = 0;

	if (syscall(SYS_getrandom, &v, sizeof v, 0) != (long)sizeof v) {
		struct timespec ts;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		v = (uint32_t)ts.tv_nsec * 2654435761u ^ (uint32_t)getpid() << 16;
	}
	v &= INT_MAX;
	return v ? (int)v : 1;
}

/* Creates a fresh file at a random free id, open for reading and writing. */
static int new_seg_file(int root_fd, int *id)
{
	char name[SYSV_NAME_MAX];

	for (int tries = 0; tries < 64; tries++) {
		int fd;

		*id = random_id();
		sysv_seg_name(*id, name);
		fd = sys_openat_here(root_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				     0600);
		if (fd >= 0 || errno != EEXIST)
			return fd;
	}
	errno = ENOSPC;
	return -1;
}

/* Makes the segment file, header and size and mode set, open in seg. */
static int make_seg(int root_fd, int32_t key, uint64_t size, mode_t mode, struct sysv_seg *seg)
{
	char name[SYSV_NAME_MAX];
	struct sysv_header *h = &seg->hdr;
	int id, saved;

	seg->fd = new_seg_file(root_fd, &id);
	if (seg->fd < 0)
		return -1;
	memset(h, 0, sizeof *h);
	memcpy(h->magic, SYSV_MAGIC, sizeof h->magic);
	h->id = id;
	h->key = key;
	h->size = size;
	h->cuid = (uint32_t)geteuid();
	h->cgid = (uint32_t)getegid();
	h->cpid = (int32_t)getpid();
	h->ctime = (int64_t)time(NULL);
	/* The mode is set after, not through open: no umask applies to it. */
	if (sysv_seg_write_header(seg) == 0 && ftruncate(seg->fd, (off_t)(SYSV_DATA_OFF + size)) == 0 &&
	    fchmod(seg->fd, mode & 0777) == 0 && sys_fstat(seg->fd, &seg->st) == 0) {
		seg->header = true;
		return 0;
	}
	saved = errno == EFBIG ? EINVAL : errno;
	sysv_seg_name(id, name);
	sys_unlinkat(root_fd, name, 0);
	sysv_seg_close(seg);
	errno = saved;
	return -1;
}

/* Unlinks the segment's file if the file at its name is still seg's. */
static int unlink_seg(int root_fd, const struct sysv_seg *seg)
{
	char name[SYSV_NAME_MAX];
	struct stat st;

	sysv_seg_name(seg->hdr.id, name);
	if (sys_fstatat(root_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
	    st.st_dev != seg->st.st_dev || st.st_ino != seg->st.st_ino) {
		errno = EINVAL; /* removed meanwhile */
		return -1;
	}
	return sys_unlinkat(root_fd, name, 0);
}

/* Under the key's lock: 1 if the key has a segment, else makes it. */
static int create_keyed(int root_fd, int32_t key, uint64_t size, mode_t mode,
			struct sysv_seg *seg, struct refusal *why)
{
	char link[SYSV_NAME_MAX], text[16];
	struct sysv_seg found;
	int id = sysv_key_find(root_fd, (uid_t)-1, key, SEG_STATUS, &found, NULL), saved;

	if (id != 0) {
		sysv_seg_close(&found);
		return id > 0 ? 1 : -1;
	}
	sysv_key_name(SYSV_KEY_PREFIX, key, link);
	if (sys_unlinkat(root_fd, link, 0) < 0 && errno != ENOENT)
		return refuse(why, EACCES, "the key's link names no segment and cannot be removed "
			      "(another user's, in a sticky root)");
	if (make_seg(root_fd, key, size, mode, seg) < 0)
		return -1;
	snprintf(text, sizeof text, "%d", seg->hdr.id);
	if (symlinkat(text, root_fd, link) == 0)
		return 0;
	saved = errno;
	unlink_seg(root_fd, seg);
	sysv_seg_close(seg);
	errno = saved;
	return -1;
}

int sysv_seg_create(int root_fd, int32_t key, uint64_t size, mode_t mode,
		    long timeout_ms, struct sysv_seg *seg, struct refusal *why)
{
	char lock_name[SYSV_NAME_MAX];
	struct lock lk;
	int r;

	seg->fd = -1;
	if (key == 0)
		return make_seg(root_fd, key, size, mode, seg);
	sysv_key_name(SYSV_LOCK_PREFIX, key, lock_name);
	if (lock_take(root_fd, lock_name, timeout_ms, &lk) < 0)
		return -1;
	r = create_keyed(root_fd, key, size, mode, seg, why);
	lock_release(root_fd, lock_name, &lk);
	return r;
}

/* Unlinks the key's link if it still names id. */
static void unlink_key(int root_fd, int32_t key, int id)
{
	char link[SYSV_NAME_MAX];

	sysv_key_name(SYSV_KEY_PREFIX, key, link);
	if (sysv_key_read(root_fd, key) == id)
		sys_unlinkat(root_fd, link, 0);
}

int sysv_seg_unlink(int root_fd, const struct sysv_seg *seg, int32_t key)
{
	if (key != 0)
		unlink_key(root_fd, key, seg->hdr.id);
	return unlink_seg(root_fd, seg);
}

int sysv_seg_remove(int root_fd, const struct sysv_seg *seg, long timeout_ms)
{
	char lock_name[SYSV_NAME_MAX];
	struct lock lk;
	int r;

	if (!seg->header || seg->hdr.key == 0)
		return unlink_seg(root_fd, seg);
	/*
	 * Without the key's lock (another user holds it, or planted something
	 * at its name) the segment goes all the same, and its key's link is
	 * left stale: the next maker of the key removes it under the lock.
	 */
	sysv_key_name(SYSV_LOCK_PREFIX, seg->hdr.key, lock_name);
	if (lock_take(root_fd, lock_name, timeout_ms, &lk) < 0)
		return unlink_seg(root_fd, seg);
	r = sysv_seg_unlink(root_fd, seg, seg->hdr.key);
	lock_release(root_fd, lock_name, &lk);
	return r;
}

int sysv_seg_write_header(const struct sysv_seg *seg)
{
	ssize_t n = pwrite(seg->fd, &seg->hdr, sizeof seg->hdr, 0);

	if (n == (ssize_t)sizeof seg->hdr)
		return 0;
	if (n >= 0)
		errno = EIO;
	return -1;
}
