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
 */
#define _GNU_SOURCE
#include "users.h"

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

/* Visits a process's descriptors; false when they cannot be read. */
static bool visit_fds(pid_t pid, visit_fn visit, void *ctx)
{
	char dir_path[64], link[64 + NAME_MAX + 2];
	struct dirent *d;
	DIR *dir;

	snprintf(dir_path, sizeof dir_path, "/proc/%d/fd", (int)pid);
	dir = opendir(dir_path);
	if (dir == NULL)
		return errno == ENOENT; /* gone is not uninspectable */
	while ((d = readdir(dir)) != NULL) {
		struct stat st;

		if (!is_pid(d->d_name))
			continue;
		snprintf(link, sizeof link, "%s/%s", dir_path, d->d_name);
		if (stat(link, &st) == 0)
			visit(ctx, pid, st.st_dev, st.st_ino);
	}
	closedir(dir);
	return true;
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
		bool fds = visit_fds(pid, visit, ctx);
		bool maps = visit_maps(pid, visit, ctx);
		uninspectable += !(fds && maps);
	}
	closedir(proc);
	return uninspectable;
}

static void read_comm(pid_t pid, char *comm, size_t size)
{
	char path[64];
	FILE *f;

	snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
	comm[0] = '\0';
	f = fopen(path, "re");
	if (f == NULL)
		return;
	if (fgets(comm, (int)size, f))
		comm[strcspn(comm, "\n")] = '\0';
	fclose(f);
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

/* Leases the file at path if it is still the file seen, then lets go. */
static enum lease lease_probe(const char *path, const struct stat *seen)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	enum lease result = LEASE_UNAVAILABLE;
	struct stat st;

	if (fd < 0)
		return LEASE_UNAVAILABLE;
	if (fstat(fd, &st) == 0 && st.st_dev == seen->st_dev && st.st_ino == seen->st_ino)
		result = lease_try(fd, false);
	close(fd);
	return result;
}

static enum entry_state object_state(const struct entry *e, size_t uninspectable)
{
	if (e->n_users > 0)
		return STATE_IN_USE;
	switch (lease_probe(e->path, &e->st)) {
	case LEASE_FREE: return STATE_ORPHAN;
	case LEASE_BUSY: return STATE_IN_USE;
	default: return uninspectable ? STATE_UNKNOWN : STATE_ORPHAN;
	}
}

/* A lock file lives only as long as the call that holds it. */
static enum entry_state lock_state(const struct entry *e)
{
	int fd = open(e->path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	bool held;

	if (fd < 0)
		return STATE_UNKNOWN;
	held = flock(fd, LOCK_EX | LOCK_NB) < 0;
	if (!held)
		flock(fd, LOCK_UN);
	close(fd);
	return held ? STATE_HELD : STATE_STALE;
}

size_t users_classify(struct inventory *inv)
{
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

		if (e->type == ENTRY_OBJECT && e->state != STATE_FOREIGN)
			*slot(&t, e->st.st_dev, e->st.st_ino) = e;
	}
	uninspectable = visit_all(table_visit, &t);
	free(t.slots);

	for (size_t i = 0; i < inv->n; i++) {
		struct entry *e = &inv->v[i];

		/* Directories and temporary files were judged by the scan. */
		if (e->state == STATE_FOREIGN || e->type == ENTRY_DIR || e->type == ENTRY_TEMP)
			continue;
		e->state = e->type == ENTRY_OBJECT ? object_state(e, uninspectable)
						   : lock_state(e);
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

bool users_in_use(const char *path, const struct stat *st)
{
	struct user *users;
	size_t uninspectable, n = users_of(st->st_dev, st->st_ino, &users, &uninspectable);

	free(users);
	return n > 0 || lease_probe(path, st) == LEASE_BUSY;
}
