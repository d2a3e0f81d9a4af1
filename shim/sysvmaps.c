/*
 * sysvmaps.c - System V attachments read from /proc/PID/maps.
 *
 * An attachment is a shared mapping of a segment's file, so the kernel's
 * own record of a process's mappings tells what the process has attached:
 * it is inherited by fork, gone after exec and exit, and needs no table
 * of our own (which would be process-wide state, wrong after a fork in
 * another thread). A line reads
 *   start-end perms offset major:minor inode [path]
 * with the numbers in hex but the inode in decimal.
 */
#define _GNU_SOURCE
#include "sysvmaps.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "sysfile.h"
#include "sysvseg.h"

/* A buffer for maps lines: on the heap, as the calling thread's stack may be small. */
#define MAPS_BUF 8192

struct vma {
	uintptr_t start, end;
	unsigned long long offset;
	dev_t dev;
	unsigned long long ino;
	const char *path; /* "" when none */
};

/* Reads a hex number at *p and the separator after it. */
static bool hex_field(const char **p, char sep, unsigned long long *v)
{
	char *end;

	*v = strtoull(*p, &end, 16);
	if (end == *p || *end != sep)
		return false;
	*p = end + 1;
	return true;
}

static bool parse_vma(const char *line, struct vma *v)
{
	unsigned long long start, end, major, minor;
	const char *p = line;
	char *stop;

	if (!hex_field(&p, '-', &start) || !hex_field(&p, ' ', &end))
		return false;
	p = strchr(p, ' '); /* past the permissions */
	if (p == NULL)
		return false;
	p++;
	if (!hex_field(&p, ' ', &v->offset) || !hex_field(&p, ':', &major) ||
	    !hex_field(&p, ' ', &minor))
		return false;
	v->ino = strtoull(p, &stop, 10);
	if (stop == p)
		return false;
	p = stop;
	while (*p == ' ')
		p++;
	v->start = (uintptr_t)start;
	v->end = (uintptr_t)end;
	v->dev = makedev((unsigned)major, (unsigned)minor);
	v->path = p;
	return true;
}

/*
 * Calls fn for each mapping in the maps file at path until it returns
 * nonzero. Returns that value, 0 at the end, or -1 when the file cannot be
 * read. A line too long for the buffer (a path near PATH_MAX) is skipped.
 */
static int each_vma(const char *path, int (*fn)(const struct vma *, void *), void *ctx)
{
	char *buf = malloc(MAPS_BUF);
	size_t have = 0;
	bool skipping = false;
	int fd = buf != NULL ? sys_open(path, O_RDONLY | O_CLOEXEC, 0) : -1;
	int r = 0;

	if (fd < 0) {
		free(buf);
		return -1;
	}
	for (;;) {
		ssize_t n = read(fd, buf + have, MAPS_BUF - 1 - have);
		char *line = buf, *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -1 : 0;
			break;
		}
		have += (size_t)n;
		buf[have] = '\0';
		while (r == 0 && (nl = strchr(line, '\n')) != NULL) {
			struct vma v;

			*nl = '\0';
			if (!skipping && parse_vma(line, &v))
				r = fn(&v, ctx);
			skipping = false;
			line = nl + 1;
		}
		if (r != 0)
			break;
		have -= (size_t)(line - buf);
		memmove(buf, line, have);
		if (have == MAPS_BUF - 1) {
			skipping = true;
			have = 0;
		}
	}
	close(fd);
	free(buf);
	return r;
}

struct count {
	dev_t dev;
	unsigned long long ino;
	long n;
};

static int count_vma(const struct vma *v, void *ctx)
{
	struct count *c = ctx;

	/* Attachments map the memory; the header page is only ever probed (maps_file_id). */
	c->n += v->dev == c->dev && v->ino == c->ino && v->offset >= SYSV_DATA_OFF;
	return 0;
}

long maps_count(dev_t dev, ino_t ino)
{
	struct count c = { dev, (unsigned long long)ino, 0 };
	int proc = sys_open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
	DIR *d = proc >= 0 ? fdopendir(proc) : NULL;
	struct dirent *e;

	if (d == NULL) {
		if (proc >= 0)
			close(proc);
		return -1;
	}
	/* /proc hidden (an empty file system there) tells nothing. */
	if (!sys_exists(AT_FDCWD, "/proc/self/maps")) {
		closedir(d);
		return -1;
	}
	while ((e = readdir(d)) != NULL) {
		char path[32];

		if (e->d_name[0] < '1' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%.16s/maps", e->d_name);
		each_vma(path, count_vma, &c);
	}
	closedir(d);
	return c.n;
}

struct probe {
	uintptr_t addr;
	bool found;
	dev_t dev;
	unsigned long long ino;
};

static int probe_vma(const struct vma *v, void *ctx)
{
	struct probe *p = ctx;

	if (v->start != p->addr)
		return 0;
	p->found = true;
	p->dev = v->dev;
	p->ino = v->ino;
	return 1;
}

int maps_file_id(int fd, dev_t *dev, ino_t *ino)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	void *m = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, 0);
	struct probe p = { (uintptr_t)m, false, 0, 0 };

	if (m == MAP_FAILED)
		return -1;
	each_vma("/proc/self/maps", probe_vma, &p);
	munmap(m, page);
	if (!p.found) {
		errno = ENOENT;
		return -1;
	}
	*dev = p.dev;
	*ino = (ino_t)p.ino;
	return 0;
}

/* The segment id of a mapping's path: ".../.SHVD<id>", maybe " (deleted)". */
static bool seg_path(const char *path, int *id)
{
	const char *base = strrchr(path, '/');
	char name[SYSV_NAME_MAX];
	size_t n;

	if (base == NULL)
		return false;
	base++;
	n = strcspn(base, " ");
	if (n >= sizeof name || (base[n] != '\0' && strcmp(base + n, " (deleted)") != 0))
		return false;
	memcpy(name, base, n);
	name[n] = '\0';
	return sysv_parse_seg_name(name, id);
}

struct find {
	uintptr_t addr;
	uintptr_t end;  /* 0 until the first mapping is found */
	unsigned long long next_offset;
	int id;
	dev_t dev;
	unsigned long long ino;
};

static int find_vma(const struct vma *v, void *ctx)
{
	struct find *f = ctx;

	if (f->end == 0) {
		if (v->start != f->addr)
			return 0;
		if (v->offset != SYSV_DATA_OFF || !seg_path(v->path, &f->id))
			return 1;
		f->dev = v->dev;
		f->ino = v->ino;
	} else if (v->start != f->end || v->dev != f->dev || v->ino != f->ino ||
		   v->offset != f->next_offset) {
		return 1;
	}
	f->end = v->end;
	f->next_offset = v->offset + (v->end - v->start);
	return 0;
}

int maps_attachment(const void *addr, size_t *len, int *id, dev_t *dev, ino_t *ino)
{
	struct find f = { (uintptr_t)addr, 0, 0, 0, 0, 0 };

	if (each_vma("/proc/self/maps", find_vma, &f) < 0 || f.end == 0) {
		errno = EINVAL;
		return -1;
	}
	*len = f.end - f.addr;
	*id = f.id;
	*dev = f.dev;
	*ino = (ino_t)f.ino;
	return 0;
}
