/*
 * sysv.c - shmget, shmat, shmdt and shmctl, the interposed System V shared
 * memory calls: the C library's (the kernel's segments), or segments as
 * files in the root (sysvseg.c) with Linux's semantics, as SHMSHIM_SYSV
 * says. By default the kernel's, unless it refuses System V shared memory
 * (ENOSYS where it is left out or a seccomp policy such as Android's
 * refuses it, EPERM from other policies): found out once per process by
 * asking it for its limits (IPC_INFO), which any process may.
 *
 * Permissions follow the kernel's ipcperms: the owner's bits for the
 * owner, the group's for the group, else the others'; root passes every
 * check (as a process with CAP_IPC_OWNER). The owner and group are the
 * file's (the creator is its owner: see creator_gid), and its mode
 * enforces the same when it is opened; execute (SHM_EXEC) only here.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "debug.h"
#include "next.h"
#include "notice.h"
#include "oldsym.h"
#include "sysfile.h"
#include "sysvmaps.h"
#include "sysvseg.h"

OLDSYM(pthread_once); /* GLIBC_2.34 by default: see oldsym.h */

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000 /* Linux 4.17; older kernels take it as a hint */
#endif
#ifndef SHM_EXEC
#define SHM_EXEC 0100000
#endif
#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

/* The largest segment: its file's length must fit in an off_t. */
#define SYSV_SIZE_MAX ((uint64_t)INT64_MAX - SYSV_DATA_OFF)

static pthread_once_t decide_once = PTHREAD_ONCE_INIT;
static bool files; /* written once under decide_once */

static void *next_shmget, *next_shmat, *next_shmdt, *next_shmctl;

static void decide(void)
{
	const struct config *cf = config_get();
	int saved = errno;

	if (cf->sysv_ignored)
		notice_once(cf, NOTICE_SYSV, (const char *const[]){
			"SHMSHIM_SYSV is not understood (it takes files, native or auto): "
			"auto is used", NULL });
	if (cf->sysv == SYSV_AUTO) {
		struct shminfo info;

		files = NEXT(next_shmctl, shmctl) == NULL ||
			(NEXT(next_shmctl, shmctl)(0, IPC_INFO, (struct shmid_ds *)(void *)&info) < 0 &&
			 (errno == ENOSYS || errno == EPERM));
	} else {
		files = cf->sysv == SYSV_FILES;
	}
	errno = saved;
}

/* Whether this process keeps its System V segments in files. */
static bool use_files(void)
{
	pthread_once(&decide_once, decide);
	return files;
}

/* The root's directory, and its owner if that is neither the caller nor root. */
struct root {
	int fd;
	uid_t owner;
};

static int root_open(struct root *r, struct refusal *why)
{
	const struct config *cf = config_get();
	struct stat st;

	r->fd = -1;
	if (api_root_usable(cf, why) < 0)
		return -1;
	r->fd = sys_open(*cf->root ? cf->root : "/", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	if (r->fd < 0 || sys_fstat(r->fd, &st) < 0) {
		if (r->fd >= 0)
			close_keep_errno(r->fd);
		r->fd = -1;
		return refuse(why, errno, "the root (SHMSHIM_DIR) cannot be opened");
	}
	r->owner = st.st_uid == geteuid() || st.st_uid == 0 ? (uid_t)-1 : st.st_uid;
	return 0;
}

static void root_close(struct root *r)
{
	if (r->fd >= 0)
		close_keep_errno(r->fd);
}

/*
 * The creator's group: the header's, when the header names the file's
 * owner as the creator. No file system keeps a creator, and whoever may
 * write a segment may write its header: a creator other than the owner
 * could be anyone's claim. So the creator reported is the file's owner
 * (after root gives a segment away with IPC_SET, its new owner). Rights
 * come from the file's owner, group and mode alone, which the kernel
 * enforces again when the file is opened.
 */
static gid_t creator_gid(const struct sysv_seg *s)
{
	return s->header && (uid_t)s->hdr.cuid == s->st.st_uid ? (gid_t)s->hdr.cgid : s->st.st_gid;
}

static bool in_group(gid_t g)
{
	gid_t some[32], *list = some;
	int n = getgroups(0, NULL);
	bool found = g == getegid();

	if (found || n <= 0)
		return found;
	if (n > 32 && (list = malloc((size_t)n * sizeof *list)) == NULL)
		return false;
	n = getgroups(n, list);
	for (int i = 0; i < n && !found; i++)
		found = list[i] == g;
	if (list != some)
		free(list);
	return found;
}

/* ipcperms: 0 if the caller may have the access bits want (4 read, 2 write, 1 execute). */
static int may(const struct sysv_seg *s, int want, struct refusal *why)
{
	uid_t euid = geteuid();
	unsigned granted = (unsigned)s->st.st_mode;

	if (euid == 0)
		return 0;
	if (euid == s->st.st_uid)
		granted >>= 6;
	else if (in_group(s->st.st_gid))
		granted >>= 3;
	if ((unsigned)want & ~granted & 7)
		return refuse(why, EACCES, "the segment's mode does not grant this access");
	return 0;
}

/* Whether the caller may change or remove the segment: its owner or root. */
static int owns(const struct sysv_seg *s, struct refusal *why)
{
	uid_t euid = geteuid();

	if (euid == 0 || euid == s->st.st_uid)
		return 0;
	return refuse(why, EPERM, "only the segment's owner (its file's) or root may do this");
}

/*
 * Writes one of the header's fields. On a descriptor open only for
 * reading it cannot: then the field is not kept. Keeps errno.
 */
static void stamp(int fd, size_t offset, const void *v, size_t len)
{
	int saved = errno;
	ssize_t n = pwrite(fd, v, len, (off_t)offset);

	(void)n;
	errno = saved;
}

/* Records the caller as the last to attach or detach, and when (offset: atime or dtime). */
static void stamp_use(int fd, size_t time_offset)
{
	int32_t pid = (int32_t)getpid();
	int64_t now = (int64_t)time(NULL);

	stamp(fd, offsetof(struct sysv_header, lpid), &pid, sizeof pid);
	stamp(fd, time_offset, &now, sizeof now);
}

static int files_shmget(key_t key, size_t size, int flg, struct refusal *why)
{
	unsigned req = (unsigned)flg & 0777;
	int want = (int)((req >> 6 | req >> 3 | req) & 7);
	struct sysv_seg seg;
	struct root r;
	int id = -1;

	if (root_open(&r, why) < 0)
		return -1;
	for (int tries = 0; tries < 100 && id < 0; tries++) {
		int found = key == IPC_PRIVATE ? 0 :
			sysv_key_find(r.fd, r.owner, key, SEG_STATUS, &seg, why);

		if (found > 0) {
			if ((flg & IPC_CREAT) && (flg & IPC_EXCL))
				refuse(why, EEXIST, "the key has a segment (IPC_EXCL)");
			else if (size > seg.hdr.size)
				refuse(why, EINVAL, "larger than the key's segment");
			else if (may(&seg, want, why) == 0)
				id = found;
			sysv_seg_close(&seg);
			break;
		}
		if (found < 0)
			break;
		if (!(flg & IPC_CREAT) && key != IPC_PRIVATE) {
			refuse(why, ENOENT, "the key has no segment, and no IPC_CREAT");
			break;
		}
		if (size < 1 || size > SYSV_SIZE_MAX) {
			refuse(why, EINVAL, "a new segment's size must be at least 1 byte, and at most "
			       "IPC_INFO's shmmax");
			break;
		}
		if (r.owner != (uid_t)-1) {
			refuse(why, EACCES, "the root is another user's directory: nothing is made in it");
			break;
		}
		found = sysv_seg_create(r.fd, key, size, (mode_t)req,
					config_get()->lock_timeout_ms, &seg, why);
		if (found == 0) {
			id = seg.hdr.id;
			sysv_seg_close(&seg);
		} else if (found < 0) {
			break;
		}
		if (tries == 99)
			refuse(why, EAGAIN, "the key's segment kept being made and removed");
	}
	root_close(&r);
	return id;
}

/*
 * The address to attach at, as the kernel rounds and checks it, in *at
 * (NULL: anywhere), and the mmap flags that go with it. Returns 0 or -1.
 */
static int attach_address(const void *addr, int flg, void **at, int *mflags, struct refusal *why)
{
	uintptr_t a = (uintptr_t)addr, lba = (uintptr_t)SHMLBA, off = a & (lba - 1);

	*at = NULL;
	if (addr == NULL)
		return flg & SHM_REMAP ? refuse(why, EINVAL, "SHM_REMAP without an address") : 0;
	if (off != 0 && !(flg & SHM_RND)) {
		if (a & ((uintptr_t)sysconf(_SC_PAGESIZE) - 1))
			return refuse(why, EINVAL, "an address not page-aligned, without SHM_RND");
		off = 0;
	}
	if (off == a && (flg & SHM_REMAP))
		return refuse(why, EINVAL, "SHM_RND rounds the address to 0, with SHM_REMAP");
	*at = (void *)((const char *)addr - off); /* rounded down to SHMLBA with SHM_RND */
	*mflags |= flg & SHM_REMAP ? MAP_FIXED : MAP_FIXED_NOREPLACE;
	return 0;
}

static void *files_shmat(int id, const void *addr, int flg, struct refusal *why)
{
	bool ro = flg & SHM_RDONLY;
	int prot = PROT_READ | (ro ? 0 : PROT_WRITE) | (flg & SHM_EXEC ? PROT_EXEC : 0);
	int mflags = MAP_SHARED;
	struct sysv_seg seg;
	struct root r;
	void *p = MAP_FAILED, *at;

	if (attach_address(addr, flg, &at, &mflags, why) < 0 || root_open(&r, why) < 0)
		return MAP_FAILED;
	if (sysv_seg_open(r.fd, r.owner, id, ro ? O_RDONLY : O_RDWR, &seg, why) == 0) {
		if (may(&seg, (ro ? 4 : 6) | (flg & SHM_EXEC ? 1 : 0), why) == 0)
			p = mmap(at, seg.hdr.size, prot, mflags, seg.fd, SYSV_DATA_OFF);
		if (p == MAP_FAILED && errno == EEXIST)
			refuse(why, EINVAL, "the address is in use (no SHM_REMAP)");
		if (p != MAP_FAILED && at != NULL && p != at) {
			munmap(p, seg.hdr.size); /* a kernel before 4.17: no MAP_FIXED_NOREPLACE */
			p = MAP_FAILED;
			refuse(why, EINVAL, "the address is in use (no SHM_REMAP)");
		}
		if (p != MAP_FAILED && !ro)
			stamp_use(seg.fd, offsetof(struct sysv_header, atime));
		sysv_seg_close(&seg);
	}
	root_close(&r);
	return p;
}

/* The file's identity as /proc/PID/maps shows it (see maps_file_id). */
static void maps_id(const struct sysv_seg *s, dev_t *dev, ino_t *ino)
{
	if (s->fd < 0 || maps_file_id(s->fd, dev, ino) < 0) {
		*dev = s->st.st_dev;
		*ino = s->st.st_ino;
	}
}

static int files_shmdt(const void *addr, struct refusal *why)
{
	struct sysv_seg seg;
	struct root r;
	size_t len;
	dev_t dev;
	ino_t ino;
	int id;

	if (maps_attachment(addr, &len, &id, &dev, &ino) < 0)
		return refuse(why, EINVAL, "no attachment starts at this address");
	if (munmap((void *)addr, len) < 0)
		return -1;
	if (root_open(&r, NULL) == 0) {
		if (sysv_seg_open(r.fd, r.owner, id, O_RDWR, &seg, NULL) == 0) {
			dev_t seg_dev;
			ino_t seg_ino;

			maps_id(&seg, &seg_dev, &seg_ino);
			if (seg_dev == dev && seg_ino == ino)
				stamp_use(seg.fd, offsetof(struct sysv_header, dtime));
			sysv_seg_close(&seg);
		}
		root_close(&r);
	}
	return 0;
}

static void fill_stat(const struct sysv_seg *s, struct shmid_ds *buf)
{
	dev_t dev;
	ino_t ino;
	long n;

	maps_id(s, &dev, &ino);
	n = maps_count(dev, ino);

	memset(buf, 0, sizeof *buf);
	buf->shm_perm.__key = s->hdr.key;
	buf->shm_perm.uid = s->st.st_uid;
	buf->shm_perm.gid = s->st.st_gid;
	buf->shm_perm.cuid = s->st.st_uid; /* see creator_gid */
	buf->shm_perm.cgid = creator_gid(s);
	buf->shm_perm.mode = s->st.st_mode & 0777;
	buf->shm_segsz = (size_t)s->hdr.size;
	buf->shm_atime = (time_t)s->hdr.atime;
	buf->shm_dtime = (time_t)s->hdr.dtime;
	buf->shm_ctime = (time_t)s->hdr.ctime;
	buf->shm_cpid = (pid_t)s->hdr.cpid;
	buf->shm_lpid = (pid_t)s->hdr.lpid;
	buf->shm_nattch = n > 0 ? (shmatt_t)n : 0;
}

/*
 * A descriptor of the segment's file to change it through: seg's own, or
 * else (its mode keeps the caller from reading it) one opened O_PATH and
 * checked to be the same file. Never the name: the owner of a segment
 * could swap its file for a link to another file meanwhile, and the
 * caller may be root. *path_fd says whether it is a new O_PATH one.
 */
static int change_fd(const struct root *r, const struct sysv_seg *s, bool *path_fd)
{
	char name[SYSV_NAME_MAX];
	struct stat st;
	int fd;

	*path_fd = false;
	if (s->fd >= 0)
		return s->fd;
	sysv_seg_name(s->hdr.id, name);
	fd = sys_openat_here(r->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC, 0);
	if (fd < 0)
		return errno == ENOENT ? (errno = EINVAL, -1) : -1;
	if (sys_fstat(fd, &st) < 0 || st.st_dev != s->st.st_dev || st.st_ino != s->st.st_ino) {
		close(fd);
		errno = EINVAL; /* removed or replaced meanwhile */
		return -1;
	}
	*path_fd = true;
	return fd;
}

/* Sets the change time, when the caller may write the file (still seg's). */
static void stamp_change(const struct root *r, const struct sysv_seg *s)
{
	int64_t now = (int64_t)time(NULL);
	struct sysv_seg w;

	if (sysv_seg_open(r->fd, r->owner, s->hdr.id, O_RDWR, &w, NULL) < 0)
		return;
	if (w.st.st_dev == s->st.st_dev && w.st.st_ino == s->st.st_ino)
		stamp(w.fd, offsetof(struct sysv_header, ctime), &now, sizeof now);
	sysv_seg_close(&w);
}

/* IPC_SET: the new owner (root only) and mode; the change time. */
static int set_perm(const struct root *r, const struct sysv_seg *s, const struct shmid_ds *buf,
		    struct refusal *why)
{
	bool path_fd;
	int fd, result = -1;

	if ((buf->shm_perm.uid != s->st.st_uid || buf->shm_perm.gid != s->st.st_gid) && geteuid() != 0)
		return refuse(why, EPERM, "only root can give a segment to another user or group "
			      "(its file's owner)");
	fd = change_fd(r, s, &path_fd);
	if (fd < 0)
		return -1;
	if ((buf->shm_perm.uid == s->st.st_uid && buf->shm_perm.gid == s->st.st_gid) ||
	    syscall(SYS_fchownat, fd, "", buf->shm_perm.uid, buf->shm_perm.gid, AT_EMPTY_PATH) == 0)
		result = path_fd ? sys_chmod_path_fd(fd, buf->shm_perm.mode & 0777)
				 : fchmod(fd, buf->shm_perm.mode & 0777);
	if (path_fd)
		close_keep_errno(fd);
	if (result == 0)
		stamp_change(r, s);
	return result;
}

/* SHM_INFO: how many segments the root holds, and their pages. */
static int root_usage(struct shm_info *info, struct refusal *why)
{
	unsigned long page = (unsigned long)sysconf(_SC_PAGESIZE);
	struct root r;
	struct dirent *e;
	DIR *d;

	memset(info, 0, sizeof *info);
	if (root_open(&r, why) < 0)
		return -1;
	d = fdopendir(r.fd);
	if (d == NULL) {
		root_close(&r);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		struct stat st;
		int id;

		if (!sysv_parse_seg_name(e->d_name, &id) ||
		    sys_fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_size <= SYSV_DATA_OFF)
			continue;
		info->used_ids++;
		info->shm_tot += ((unsigned long)st.st_size - SYSV_DATA_OFF + page - 1) / page;
	}
	info->shm_rss = info->shm_tot;
	closedir(d);
	return 0;
}

/* IPC_INFO and SHM_INFO: the limits, and what the root holds. */
static int files_info(int cmd, struct shmid_ds *buf, struct refusal *why)
{
	if (cmd == IPC_INFO) {
		struct shminfo *i = (struct shminfo *)(void *)buf;

		memset(i, 0, sizeof *i);
		i->shmmax = (unsigned long)SYSV_SIZE_MAX;
		i->shmmin = 1;
		i->shmmni = 4096;
		i->shmseg = 4096;
		i->shmall = (unsigned long)(SYSV_SIZE_MAX / (uint64_t)sysconf(_SC_PAGESIZE));
		return 0;
	}
	return root_usage((struct shm_info *)(void *)buf, why);
}

/*
 * How long IPC_RMID waits for the key's lock: briefly. Without it the
 * segment goes all the same, its link left stale (sysvseg.c), so another
 * user who holds the lock cannot delay the removal for the whole time-out.
 */
#define RMID_WAIT_MS 20L

static long rmid_wait_ms(void)
{
	long t = config_get()->lock_timeout_ms;

	return t < RMID_WAIT_MS ? t : RMID_WAIT_MS;
}

static int files_shmctl(int id, int cmd, struct shmid_ds *buf, struct refusal *why)
{
	struct sysv_seg seg;
	struct root r;
	int result = -1;

	if ((cmd == IPC_STAT || cmd == IPC_SET || cmd == IPC_INFO || cmd == SHM_INFO) && buf == NULL)
		return refuse(why, EFAULT, "no buffer");
	if (cmd == IPC_INFO || cmd == SHM_INFO)
		return files_info(cmd, buf, why);
	if (cmd != IPC_STAT && cmd != IPC_SET && cmd != IPC_RMID && cmd != SHM_LOCK &&
	    cmd != SHM_UNLOCK)
		return refuse(why, EINVAL, "a command the shim does not do on files "
			      "(SHM_STAT and SHM_STAT_ANY go by the kernel's indexes)");
	if (root_open(&r, why) < 0)
		return -1;
	if (sysv_seg_open(r.fd, r.owner, id, SEG_STATUS, &seg, why) == 0) {
		switch (cmd) {
		case IPC_STAT:
			if (may(&seg, 4, why) < 0)
				break;
			if (!seg.header) {
				refuse(why, EACCES, "the segment's file cannot be read");
				break;
			}
			fill_stat(&seg, buf);
			result = 0;
			break;
		case IPC_SET:
			if (owns(&seg, why) == 0)
				result = set_perm(&r, &seg, buf, why);
			break;
		case IPC_RMID:
			if (owns(&seg, why) == 0)
				result = sysv_seg_remove(r.fd, &seg, rmid_wait_ms());
			break;
		default: /* SHM_LOCK, SHM_UNLOCK: file pages are not locked; allowed as the kernel allows */
			result = owns(&seg, why);
			break;
		}
		sysv_seg_close(&seg);
	}
	root_close(&r);
	return result;
}

/* The SHMSHIM_DEBUG line, the call's arguments in place of a name. */
static void trace(const char *call, const char *args, const struct refusal *why, long result)
{
	const char *reason = result < 0 && why->why != NULL && why->err == errno ? why->why : NULL;

	debug_call(call, args, -1, 0, NULL, reason, result < 0 ? -1 : (int)(result & INT_MAX));
}

EXPORT int shmget(key_t key, size_t size, int flg)
{
	struct refusal why = { NULL, 0 };
	int state, id;

	if (!use_files())
		return NEXT(next_shmget, shmget) ? NEXT(next_shmget, shmget)(key, size, flg) : -1;
	state = api_cancel_off();
	id = files_shmget(key, size, flg, &why);
	if (config_get()->debug) {
		char args[64];

		snprintf(args, sizeof args, "key 0x%08x, size %zu, flags 0%o", (unsigned)key, size,
			 (unsigned)flg);
		trace("shmget", args, &why, id);
	}
	api_cancel_restore(state);
	return id;
}

EXPORT void *shmat(int id, const void *addr, int flg)
{
	struct refusal why = { NULL, 0 };
	int state;
	void *p;

	if (!use_files())
		return NEXT(next_shmat, shmat) ? NEXT(next_shmat, shmat)(id, addr, flg) : MAP_FAILED;
	state = api_cancel_off();
	p = files_shmat(id, addr, flg, &why);
	if (config_get()->debug) {
		char args[64];

		snprintf(args, sizeof args, "id %d, address 0x%lx, flags 0%o", id,
			 (unsigned long)(uintptr_t)addr, (unsigned)flg);
		trace("shmat", args, &why, p == MAP_FAILED ? -1 : 0);
	}
	api_cancel_restore(state);
	return p;
}

EXPORT int shmdt(const void *addr)
{
	struct refusal why = { NULL, 0 };
	int state, r;

	if (!use_files())
		return NEXT(next_shmdt, shmdt) ? NEXT(next_shmdt, shmdt)(addr) : -1;
	state = api_cancel_off();
	r = files_shmdt(addr, &why);
	if (config_get()->debug) {
		char args[32];

		snprintf(args, sizeof args, "address 0x%lx", (unsigned long)(uintptr_t)addr);
		trace("shmdt", args, &why, r);
	}
	api_cancel_restore(state);
	return r;
}

EXPORT int shmctl(int id, int cmd, struct shmid_ds *buf)
{
	struct refusal why = { NULL, 0 };
	int state, r;

	if (!use_files())
		return NEXT(next_shmctl, shmctl) ? NEXT(next_shmctl, shmctl)(id, cmd, buf) : -1;
	state = api_cancel_off();
	r = files_shmctl(id, cmd, buf, &why);
	if (config_get()->debug) {
		char args[40];

		snprintf(args, sizeof args, "id %d, command %d", id, cmd);
		trace("shmctl", args, &why, r);
	}
	api_cancel_restore(state);
	return r;
}
