/*
 * users.c - is anyone using an object, and who?
 *
 * /proc names the users: every descriptor (/proc/PID/fd) and every mapping
 * (/proc/PID/maps) of every process, matched by device and inode, so a
 * process that mapped an object and closed the descriptor counts, and an
 * object unlinked and made again under the same name is told apart from
 * its predecessor. /proc may be closed to us (other users' processes, or
 * PID 1 even for root); the kernel then still answers for files we own, or
 * for any file as root: a write lease is granted only when no other open
 * file description of the file exists, descriptor or mapping, anywhere.
 *
 * Looking must not wait for anyone. Other users' descriptors can be on
 * any file system, a FUSE one whose server never answers among them, so
 * nothing here asks another file system anything: targets are read as
 * paths first, and only those that can be ours are asked for their inode,
 * from what the kernel already has. Threads can have descriptor tables of
 * their own; those count too.
 */
#define _GNU_SOURCE
#include "users.h"
#include "nosync.h"
#include "sysfile.h"
#include "sysvseg.h"

#include <ctype.h>
#include <limits.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

/* Called for each file a process has open or mapped. */
typedef void (*visit_fn)(void *ctx, pid_t pid, dev_t dev, ino_t ino);

static bool is_pid(const char *s)
{
	for (const char *p = s; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return *s != '\0';
}

/* A leaf that starts like a data file's: ".SHMDfoo", ".SEMDfoo", the
 * temporary ".SEMTfoo" (".SEMT" in the long-name layout) that a new
 * semaphore's creator has open before it links the file into place, or a
 * System V segment's ".SHVD<id>". */
static bool is_data_leaf(const char *s)
{
	return ((strncmp(s, ".SHM", 4) == 0 || strncmp(s, ".SEM", 4) == 0) &&
		(s[4] == 'D' || s[4] == 'T')) || strncmp(s, SYSV_SEG_PREFIX, PREFIX_LEN) == 0;
}

/* Whether s, up to the next '/', is a long name's directory: "." and the
 * name's MD5 in lower-case hex (path.c's layout). */
static bool is_hash_dir(const char *s)
{
	if (s[0] != '.')
		return false;
	for (size_t i = 1; i <= MD5_HEX_LEN; i++)
		if (!isdigit((unsigned char)s[i]) && (s[i] < 'a' || s[i] > 'f'))
			return false;
	return s[1 + MD5_HEX_LEN] == '/';
}

/*
 * Whether a descriptor whose target /proc shows as path can be one of
 * our objects: <dir>/.SHMDfoo (or .SEMD, .SEMT), or, for a long name,
 * <dir>/.<md5>/.SHMD/foo (or .SEMD). A deleted file's path ends in
 * " (deleted)", which changes none of this. Pipes, sockets and the like
 * ("socket:[1234]") do not start with a slash.
 *
 * <dir> is not compared with the root: /proc shows the path as the
 * holder sees it, so a holder in a container that has the root mounted
 * elsewhere shows another one, as does a root named through a symbolic
 * link. This is only a sieve, so that the files of other file systems are
 * not examined at all; what is ours is decided by device and inode.
 */
static bool may_be_object(const char *path)
{
	/* What precedes a long name's leaf: "/.<md5>/.SHMD/". */
	const size_t hashed = 1 + 1 + MD5_HEX_LEN + 1 + PREFIX_LEN + 1;
	const char *leaf, *sub;

	if (path[0] != '/')
		return false;
	leaf = strrchr(path, '/') + 1;
	if (is_data_leaf(leaf))
		return true;
	if ((size_t)(leaf - path) < hashed)
		return false;
	sub = leaf - 1 - PREFIX_LEN;
	return (memcmp(sub, ".SHMD/", PREFIX_LEN + 1) == 0 ||
		memcmp(sub, ".SEMD/", PREFIX_LEN + 1) == 0) &&
	       is_hash_dir(leaf - hashed + 1) && leaf[-hashed] == '/';
}

/*
 * Whether a descriptor whose target /proc shows as path can be in a tree
 * (ENTRY_TREE): beneath a name <dir>/.SHMDfoo/..., or a socket, whose
 * inode in the kernel's socket file system is matched with the ones
 * /proc/net/unix gives the trees' sockets (see socket_keys).
 */
static bool may_be_in_tree(const char *path)
{
	const char *p = strstr(path, "/.SHMD");

	if (strncmp(path, "socket:[", 8) == 0)
		return true;
	return path[0] == '/' && p != NULL && strchr(p + 1, '/') != NULL;
}

/*
 * The device and inode of the file that descriptor fd_name (in the
 * /proc/.../fd directory dir_fd) refers to, without asking the file's
 * file system. A stat(2) of the link asks it for fresh attributes (FUSE's
 * getattr, NFS's GETATTR), and waits for as long as its server does not
 * answer, unkillably: any user who can mount a FUSE file system (or a
 * dead NFS server) could stop shmclean. statx with AT_STATX_DONT_SYNC
 * takes the attributes the kernel has, and the device and inode are
 * always there. Following the link is no path lookup in that file
 * system: the kernel jumps to the open file's own dentry.
 */
static bool fd_file_id(int dir_fd, const char *fd_name, dev_t *dev, ino_t *ino)
{
	struct stat st;

	/* Without statx (see nosync.c) this can still wait, but the sieve in
	 * may_be_object keeps that to files named like ours. */
	if (stat_nosync(dir_fd, fd_name, &st, 0) < 0)
		return false;
	*dev = st.st_dev;
	*ino = st.st_ino;
	return true;
}

/*
 * Visits the descriptors in dir_path (/proc/PID/fd, or a thread's
 * /proc/PID/task/TID/fd) as pid's; false when they cannot be read. Each
 * descriptor's target is read with readlink, which only reports the path
 * the kernel keeps; only those that can be ours are examined further.
 */
static bool visit_fds(const char *dir_path, pid_t pid, visit_fn visit, void *ctx)
{
	char target[PATH_MAX];
	struct dirent *d;
	bool readable = true;
	DIR *dir = opendir(dir_path);

	if (dir == NULL)
		return errno == ENOENT; /* gone is not uninspectable */
	while ((d = readdir(dir)) != NULL) {
		ssize_t n;
		dev_t dev;
		ino_t ino;

		if (!is_pid(d->d_name))
			continue;
		n = readlinkat(dirfd(dir), d->d_name, target, sizeof target - 1);
		if (n < 0 && (errno == EACCES || errno == EPERM)) {
			/* The list can be open to us when the targets are not
			 * (PID 1 here); then none of them are. */
			readable = false;
			break;
		}
		if (n < 0)
			continue; /* closed meanwhile */
		target[n] = '\0';
		/* A path that filled the buffer may be cut short: examine it. */
		if ((size_t)n < sizeof target - 1 && !may_be_object(target) &&
		    !may_be_in_tree(target))
			continue;
		if (fd_file_id(dirfd(dir), d->d_name, &dev, &ino))
			visit(ctx, pid, dev, ino);
	}
	closedir(dir);
	return readable;
}

/* kcmp's KCMP_FILES (linux/kcmp.h): do two tasks share a descriptor table? */
#define KERNEL_KCMP_FILES 2

/*
 * Whether thread tid of process pid shares its descriptor table, as
 * threads do unless one called unshare(CLONE_FILES). false when the
 * kernel cannot tell (no kcmp: before Linux 3.5, or built without it), so
 * that the thread's table is read.
 */
static bool shares_table(pid_t pid, pid_t tid)
{
#ifdef SYS_kcmp
	return syscall(SYS_kcmp, pid, tid, KERNEL_KCMP_FILES, 0, 0) == 0;
#else
	(void)pid;
	(void)tid;
	return false;
#endif
}

/*
 * Visits the descriptor tables of pid's threads that have one of their
 * own, seen only in /proc/PID/task/TID/fd; false when one cannot be read.
 * Threads that share the process's table (nearly all) cost one kcmp each,
 * not a second reading of the table.
 */
static bool visit_threads(pid_t pid, visit_fn visit, void *ctx)
{
	char path[64];
	struct dirent *d;
	bool readable = true;
	DIR *tasks;

	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (tasks == NULL)
		return errno == ENOENT;
	while ((d = readdir(tasks)) != NULL) {
		pid_t tid;

		if (!is_pid(d->d_name))
			continue;
		tid = (pid_t)strtol(d->d_name, NULL, 10);
		if (tid == pid || shares_table(pid, tid))
			continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/fd", (int)pid, (int)tid);
		if (!visit_fds(path, pid, visit, ctx))
			readable = false;
	}
	closedir(tasks);
	return readable;
}

/*
 * Reads the device and inode of a /proc/PID/maps line:
 * "start-end perms offset major:minor inode [path]", numbers in hex but
 * the inode, in decimal.
 */
static bool parse_maps_line(const char *line, unsigned *major, unsigned *minor,
			    unsigned long long *ino)
{
	const char *p = line;
	char *end;

	for (int field = 0; field < 3; field++) {
		p = strchr(p, ' ');
		if (p == NULL)
			return false;
		p++;
	}
	*major = (unsigned)strtoul(p, &end, 16);
	if (*end != ':')
		return false;
	*minor = (unsigned)strtoul(end + 1, &end, 16);
	if (*end != ' ')
		return false;
	*ino = strtoull(end + 1, &end, 10);
	return *end == ' ' || *end == '\n' || *end == '\0';
}

/* Visits a process's file mappings; false when they cannot be read. */
static bool visit_maps(pid_t pid, visit_fn visit, void *ctx)
{
	char path[64];
	char *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (f == NULL)
		return errno == ENOENT;
	while (getline(&line, &cap, f) > 0) {
		unsigned major, minor;
		unsigned long long ino;

		if (parse_maps_line(line, &major, &minor, &ino) && ino != 0)
			visit(ctx, pid, makedev(major, minor), (ino_t)ino);
	}
	/* A read error (EACCES on read, as for PID 1 here) means no answer. */
	bool readable = !ferror(f);
	free(line);
	fclose(f);
	return readable;
}

static size_t visit_all(visit_fn visit, void *ctx)
{
	DIR *proc = opendir("/proc");
	pid_t self = getpid();
	size_t uninspectable = 0;
	struct dirent *d;

	if (proc == NULL)
		return 1;
	while ((d = readdir(proc)) != NULL) {
		pid_t pid;

		if (!is_pid(d->d_name))
			continue;
		pid = (pid_t)strtol(d->d_name, NULL, 10);
		if (pid == self)
			continue;
		char fd_dir[64];

		snprintf(fd_dir, sizeof fd_dir, "/proc/%d/fd", (int)pid);
		bool fds = visit_fds(fd_dir, pid, visit, ctx);
		bool threads = visit_threads(pid, visit, ctx);
		bool maps = visit_maps(pid, visit, ctx);
		uninspectable += !(fds && threads && maps);
	}
	closedir(proc);
	return uninspectable;
}

static void read_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	comm[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	n = read(fd, comm, size - 1);
	close(fd);
	/* The kernel ends it with a newline; one inside is the process's own. */
	if (n > 0 && comm[n - 1] == '\n')
		n--;
	comm[n > 0 ? n : 0] = '\0';
}

/* Adds pid to the list once (visits come process by process). */
static void add_user(struct user **users, size_t *n, pid_t pid)
{
	if (*n > 0 && (*users)[*n - 1].pid == pid)
		return;
	*users = realloc(*users, (*n + 1) * sizeof **users);
	if (*users == NULL) {
		perror("shmclean");
		exit(1);
	}
	(*users)[*n].pid = pid;
	read_comm(pid, (*users)[*n].comm, sizeof (*users)[*n].comm);
	(*n)++;
}

/* An open-addressing table from (dev, ino) to inventory entries. */
struct table {
	struct entry **slots;
	size_t mask;
};

static size_t hash(dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;

	return (size_t)(h ^ h >> 29);
}

static struct entry **slot(const struct table *t, dev_t dev, ino_t ino)
{
	for (size_t i = hash(dev, ino) & t->mask;; i = (i + 1) & t->mask) {
		struct entry *e = t->slots[i];

		if (e == NULL || (e->st.st_dev == dev && e->st.st_ino == ino))
			return &t->slots[i];
	}
}

static void table_visit(void *ctx, pid_t pid, dev_t dev, ino_t ino)
{
	struct entry *e = *slot(ctx, dev, ino);

	if (e)
		add_user(&e->users, &e->n_users, pid);
}

enum lease lease_try(int fd, bool keep)
{
	if (fcntl(fd, F_SETLEASE, F_WRLCK) < 0)
		return errno == EAGAIN || errno == EBUSY ? LEASE_BUSY
							 : LEASE_UNAVAILABLE;
	if (!keep)
		lease_release(fd);
	return LEASE_FREE;
}

void lease_release(int fd)
{
	(void)fcntl(fd, F_SETLEASE, F_UNLCK);
}

bool lease_broken(int fd)
{
	/* While a break is pending, the answer is the type it breaks to. */
	return fcntl(fd, F_GETLEASE) != F_WRLCK;
}

/*
 * Leases the file at path (under root) if it is still the file seen, then
 * lets go.
 */
static enum lease lease_probe(const char *root, const char *path, const struct stat *seen)
{
	int fd = open_beneath(root, path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	enum lease result = LEASE_UNAVAILABLE;
	struct stat st;

	if (fd < 0)
		return LEASE_UNAVAILABLE;
	if (sys_fstat(fd, &st) == 0 && st.st_dev == seen->st_dev && st.st_ino == seen->st_ino)
		result = lease_try(fd, false);
	close(fd);
	return result;
}

static enum entry_state object_state(const struct inventory *inv, const struct entry *e,
				     size_t uninspectable)
{
	if (e->n_users > 0)
		return STATE_IN_USE;
	switch (lease_probe(inv->root, e->path, &e->st)) {
	case LEASE_FREE: return STATE_ORPHAN;
	case LEASE_BUSY: return STATE_IN_USE;
	default: return uninspectable ? STATE_UNKNOWN : STATE_ORPHAN;
	}
}

/* A lock file lives only as long as the call that holds it. */
static enum entry_state lock_state(const struct inventory *inv, const struct entry *e)
{
	int fd = open_beneath(inv->root, e->path, O_RDONLY | O_NONBLOCK | O_NOCTTY);
	bool held;

	if (fd < 0)
		return STATE_UNKNOWN;
	held = flock(fd, LOCK_EX | LOCK_NB) < 0;
	if (!held)
		flock(fd, LOCK_UN);
	close(fd);
	return held ? STATE_HELD : STATE_STALE;
}

/* The files of the trees (ENTRY_TREE), by device and inode. */
struct tree_key {
	dev_t dev;
	ino_t ino;
	struct entry *e;
};

struct trees {
	struct tree_key *v;
	size_t n, cap;
};

static void tree_add(struct trees *t, dev_t dev, ino_t ino, struct entry *e)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 64;
		t->v = realloc(t->v, t->cap * sizeof *t->v);
		if (t->v == NULL) {
			perror("shmclean");
			exit(1);
		}
	}
	t->v[t->n].dev = dev;
	t->v[t->n].ino = ino;
	t->v[t->n++].e = e;
}

static int key_cmp(const void *a, const void *b)
{
	const struct tree_key *x = a, *y = b;

	if (x->dev != y->dev)
		return x->dev < y->dev ? -1 : 1;
	return x->ino < y->ino ? -1 : x->ino > y->ino;
}

/*
 * Whether the regular file name in dir, seen as st, is open anywhere, as
 * a lease on it tells: for when /proc cannot tell of every process. The
 * answer goes into e->tree_leases.
 */
static void tree_lease(struct entry *e, int dir, const char *name, const struct stat *seen)
{
	int fd = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	enum lease l = LEASE_UNAVAILABLE;
	struct stat st;

	if (fd >= 0 && sys_fstat(fd, &st) == 0 && st.st_ino == seen->st_ino)
		l = lease_try(fd, false);
	if (fd >= 0)
		close(fd);
	e->tree_leases |= l == LEASE_BUSY ? TREE_BUSY : l == LEASE_FREE ? TREE_FREE : TREE_UNSURE;
}

/*
 * Adds every file in the directory fd (closed here) to t as e's, and
 * keeps in e the newest change time seen: a file changed inside makes the
 * tree young. Follows no link and enters no other file system, and goes
 * at most TREE_DEPTH levels down, so the recursion is bounded.
 */
static void tree_walk(struct trees *t, struct entry *e, int fd, int depth) /* NOLINT(misc-no-recursion) */
{
	DIR *dir = fdopendir(fd);
	struct dirent *d;
	struct stat st;
	int sub;

	if (dir == NULL) {
		close(fd);
		return;
	}
	while ((d = readdir(dir)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0 ||
		    stat_nosync(dirfd(dir), d->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    st.st_dev != e->st.st_dev)
			continue;
		tree_add(t, st.st_dev, st.st_ino, e);
		if (st.st_ctim.tv_sec > e->st.st_ctim.tv_sec)
			e->st.st_ctim = st.st_ctim;
		if (S_ISREG(st.st_mode))
			tree_lease(e, dirfd(dir), d->d_name, &st);
		if (S_ISDIR(st.st_mode) && depth >= TREE_DEPTH) {
			e->tree_leases |= TREE_DEEP;
		} else if (S_ISDIR(st.st_mode)) {
			sub = openat(dirfd(dir), d->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
			if (sub >= 0)
				tree_walk(t, e, sub, depth + 1);
			else
				e->tree_leases |= TREE_UNSURE;
		}
	}
	closedir(dir);
}

/*
 * Reads a line of /proc/net/unix ("Num RefCount Protocol Flags Type St
 * Inode Path"): the socket's inode and the path it is bound to. false for
 * the header, an unbound socket, or anything else.
 */
static bool unix_line(const char *line, unsigned long *ino, const char **path)
{
	char *end;
	int field;

	for (field = 0; field < 6; field++) {
		line += strspn(line, " ");
		line += strcspn(line, " ");
	}
	errno = 0;
	*ino = strtoul(line, &end, 10);
	if (end == line || errno != 0 || *end != ' ')
		return false;
	*path = end + strspn(end, " ");
	return **path == '/';
}

/*
 * Adds the trees' sockets as the kernel's socket file system numbers
 * them: a process with a descriptor of the socket bound there (the
 * listener and its connections are separate sockets; the listener is the
 * one bound to the path) is its user.
 */
static void socket_keys(struct trees *t, struct inventory *inv)
{
	char line[PATH_MAX + 128];
	const char *bound;
	unsigned long ino;
	struct stat st;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	FILE *f;

	f = fd < 0 || sys_fstat(fd, &st) < 0 ? NULL : fopen("/proc/net/unix", "re");
	if (fd >= 0)
		close(fd);
	if (f == NULL) {
		for (size_t i = 0; i < inv->n; i++)
			if (inv->v[i].type == ENTRY_TREE && S_ISSOCK(inv->v[i].st.st_mode))
				inv->v[i].tree_leases |= TREE_UNSURE; /* cannot tell */
		return;
	}
	while (fgets(line, sizeof line, f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (!unix_line(line, &ino, &bound))
			continue;
		for (size_t i = 0; i < inv->n; i++) {
			struct entry *e = &inv->v[i];

			if (e->type == ENTRY_TREE && S_ISSOCK(e->st.st_mode) &&
			    strcmp(bound, e->path) == 0) {
				tree_add(t, st.st_dev, (ino_t)ino, e);
				e->tree_leases |= TREE_BUSY; /* bound by a live socket */
			}
		}
	}
	fclose(f);
}

/* The keys of every tree in inv, sorted. */
static void tree_keys(struct trees *t, struct inventory *inv)
{
	bool sockets = false;

	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < inv->n; i++) {
		struct entry *e = &inv->v[i];
		int fd;

		if (e->type != ENTRY_TREE)
			continue;
		if (S_ISSOCK(e->st.st_mode)) {
			sockets = true;
			continue;
		}
		tree_add(t, e->st.st_dev, e->st.st_ino, e);
		fd = open_beneath(inv->root, e->path, O_RDONLY | O_DIRECTORY | O_NONBLOCK);
		if (fd >= 0)
			tree_walk(t, e, fd, 0);
	}
	if (sockets)
		socket_keys(t, inv);
	if (t->n)
		qsort(t->v, t->n, sizeof *t->v, key_cmp);
}

struct both {
	struct table *table;
	struct trees *trees;
};

static void both_visit(void *ctx, pid_t pid, dev_t dev, ino_t ino)
{
	struct both *b = ctx;
	struct tree_key key = { dev, ino, NULL }, *found;

	table_visit(b->table, pid, dev, ino);
	found = b->trees->n ? bsearch(&key, b->trees->v, b->trees->n, sizeof key, key_cmp) : NULL;
	if (found)
		add_user(&found->e->users, &found->e->n_users, pid);
}

/*
 * A socket that no socket of this network namespace is bound to
 * (/proc/net/unix) may still be bound in another, or named otherwise
 * there: a connect to it tells. Refused, nobody is bound to it (orphan);
 * accepted or pending (the listener's backlog full), somebody is. The
 * connection, if made, is closed at once, unused.
 */
static enum entry_state socket_state(const struct inventory *inv, const struct entry *e)
{
	int fd = open_beneath(inv->root, e->path, O_PATH);
	struct sockaddr_un un;
	struct stat st;
	int types[] = { SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET };
	enum entry_state state = STATE_UNKNOWN;
	char path[32];

	if (fd < 0 || sys_fstat(fd, &st) < 0 || st.st_ino != e->st.st_ino) {
		if (fd >= 0)
			close(fd);
		return STATE_UNKNOWN;
	}
	/* Through the descriptor (/proc/self/fd/N): no path lookup to swap. */
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(&un, 0, sizeof un);
	un.sun_family = AF_UNIX;
	memcpy(un.sun_path, path, strlen(path));
	for (size_t i = 0; i < sizeof types / sizeof *types && state == STATE_UNKNOWN; i++) {
		int s = socket(AF_UNIX, types[i] | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), r;

		if (s < 0)
			break;
		r = connect(s, (struct sockaddr *)&un, sizeof un);
		if (r == 0 || errno == EAGAIN || errno == EINPROGRESS)
			state = STATE_IN_USE;
		else if (errno == ECONNREFUSED)
			state = STATE_ORPHAN;
		else if (errno != EPROTOTYPE)
			i = sizeof types; /* cannot tell */
		close(s);
	}
	close(fd);
	return state;
}

/*
 * A tree is in use when a process has a file in it open or mapped, or
 * has its socket. When some process could not be looked at, the leases
 * on its files tell (a directory's own descriptors, a working directory
 * in it, go unseen then); a socket is in use when a live socket is bound
 * to it (/proc/net/unix), whoever holds it.
 */
static enum entry_state tree_state(const struct inventory *inv, const struct entry *e,
				   size_t uninspectable)
{
	if (e->n_users > 0 || (e->tree_leases & TREE_BUSY))
		return STATE_IN_USE;
	if (S_ISSOCK(e->st.st_mode))
		return socket_state(inv, e);
	if (e->tree_leases & TREE_DEEP)
		return STATE_UNKNOWN; /* never removed: part of it went unseen */
	return uninspectable && (e->tree_leases & TREE_UNSURE) ? STATE_UNKNOWN : STATE_ORPHAN;
}

/*
 * A key's link that names its segment has the segment's state, which is
 * already known (the segment comes first); a stale one stays stale.
 */
static void key_state(struct inventory *inv, size_t i)
{
	const struct entry *seg = inventory_segment_of(inv, i);

	if (seg)
		inv->v[i].state = seg->state;
}

size_t users_classify(struct inventory *inv)
{
	struct trees trees;
	struct both both;
	struct table t;
	size_t size = 16, uninspectable;

	while (size < 2 * inv->n)
		size *= 2;
	t.mask = size - 1;
	t.slots = calloc(size, sizeof(struct entry *));
	if (t.slots == NULL) {
		perror("shmclean");
		exit(1);
	}
	for (size_t i = 0; i < inv->n; i++) {
		struct entry *e = &inv->v[i];

		if ((e->type == ENTRY_OBJECT || e->type == ENTRY_SYSV) && e->state != STATE_FOREIGN)
			*slot(&t, e->st.st_dev, e->st.st_ino) = e;
	}
	tree_keys(&trees, inv);
	both.table = &t;
	both.trees = &trees;
	uninspectable = visit_all(both_visit, &both);
	free(t.slots);
	free(trees.v);

	for (size_t i = 0; i < inv->n; i++) {
		struct entry *e = &inv->v[i];

		/* Directories, temporary files and key links were judged by the scan. */
		if (e->state == STATE_FOREIGN || e->type == ENTRY_DIR || e->type == ENTRY_TEMP)
			continue;
		if (e->type == ENTRY_SYSV_KEY)
			key_state(inv, i);
		else if (e->type == ENTRY_TREE)
			e->state = tree_state(inv, e, uninspectable);
		else if (e->type == ENTRY_OBJECT || e->type == ENTRY_SYSV)
			e->state = object_state(inv, e, uninspectable);
		else
			e->state = lock_state(inv, e);
	}
	return uninspectable;
}

struct one {
	dev_t dev;
	ino_t ino;
	struct user *users;
	size_t n;
};

static void one_visit(void *ctx, pid_t pid, dev_t dev, ino_t ino)
{
	struct one *o = ctx;

	if (dev == o->dev && ino == o->ino)
		add_user(&o->users, &o->n, pid);
}

size_t users_of(dev_t dev, ino_t ino, struct user **users, size_t *uninspectable)
{
	struct one o = { dev, ino, NULL, 0 };

	*uninspectable = visit_all(one_visit, &o);
	*users = o.users;
	return o.n;
}

bool users_in_use(const char *root, const char *path, const struct stat *st)
{
	struct user *users;
	size_t uninspectable, n = users_of(st->st_dev, st->st_ino, &users, &uninspectable);

	free(users);
	return n > 0 || lease_probe(root, path, st) == LEASE_BUSY;
}
