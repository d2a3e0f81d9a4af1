/*
 * parity.c - the same list of calls, for tests/parity.t to run natively
 * (glibc on the real /dev/shm) and under the shim in glibc mode, and to
 * compare line by line.
 *
 *   parity TAG
 *
 * Prints one line per call: a case id (which does not contain TAG, so
 * the two runs' lines compare), a tab and the result: "ok" with what can
 * be seen of the descriptor (access mode, size, close-on-exec), or the
 * errno name. TAG makes the names unique on the shared /dev/shm; the
 * lengths in the ids count TAG in. Every object a case makes is removed
 * by the case after it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errname.h" /* the names of errno values, as on every C library */

static const char *tag;

/* A name from a pattern: each 'X' is TAG; "#N" at the end pads the name
 * with 'a' to N characters after its leading slashes. */
static char *make_name(const char *pattern)
{
	static char buf[2 * PATH_MAX];
	const char *hash = strchr(pattern, '#');
	size_t n = 0;

	for (const char *p = pattern; *p && p != hash; p++) {
		if (*p == 'X') {
			memcpy(buf + n, tag, strlen(tag));
			n += strlen(tag);
		} else {
			buf[n++] = *p;
		}
	}
	if (hash) {
		size_t slashes = strspn(buf, "/"), want = (size_t)atoi(hash + 1);

		while (n - slashes < want && n + 1 < sizeof buf)
			buf[n++] = 'a';
	}
	buf[n] = '\0';
	return buf;
}

static const char *result_fd(int fd)
{
	static char out[128];
	struct stat st;
	int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
	const char *acc = (fl & O_ACCMODE) == O_RDONLY ? "rdonly"
		: (fl & O_ACCMODE) == O_WRONLY ? "wronly" : "rdwr";

	if (fstat(fd, &st) < 0)
		return "fstat failed";
	snprintf(out, sizeof out, "ok %s%s%s size=%lld mode=%04o%s%s", acc,
		 (fl & O_NONBLOCK) ? " nonblock" : "", (fl & O_APPEND) ? " append" : "",
		 (long long)st.st_size, (unsigned)(st.st_mode & 07777),
		 S_ISREG(st.st_mode) ? "" : " not-regular", (fdfl & FD_CLOEXEC) ? " cloexec" : "");
	return out;
}

static void line(const char *id, const char *what, const char *result)
{
	printf("%s %s\t%s\n", id, what, result);
	fflush(stdout);
}

static const char *errname(int r, int e)
{
	return r == 0 ? "ok" : err_name(e);
}

static void shm_call(const char *id, const char *what, const char *name, int oflag)
{
	int fd = shm_open(name, oflag, 0666), e = errno;

	line(id, what, fd >= 0 ? result_fd(fd) : err_name(e));
	if (fd >= 0)
		close(fd);
}

static void shm_unlink_call(const char *id, const char *what, const char *name)
{
	int r = shm_unlink(name), e = errno;

	line(id, what, errname(r, e));
}

/* Makes the object afresh: 100 bytes, so a truncation shows. */
static void shm_fresh(const char *name)
{
	int fd;

	shm_unlink(name);
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0 || ftruncate(fd, 100) < 0) {
		perror("parity: making an object");
		exit(2);
	}
	close(fd);
}

/* The life of one name: missing, created, created again, opened, removed. */
static void shm_name_case(const char *pattern)
{
	const char *name = make_name(pattern);
	char id[128];

	snprintf(id, sizeof id, "shm \"%s\"", pattern);
	shm_call(id, "open missing rdonly", name, O_RDONLY);
	shm_unlink_call(id, "unlink missing", name);
	shm_call(id, "create excl", name, O_RDWR | O_CREAT | O_EXCL);
	shm_call(id, "create excl again", name, O_RDWR | O_CREAT | O_EXCL);
	shm_call(id, "open existing rdonly", name, O_RDONLY);
	shm_call(id, "open existing rdwr", name, O_RDWR);
	shm_unlink_call(id, "unlink existing", name);
	shm_unlink_call(id, "unlink again", name);
}

static const struct flag_case {
	const char *what;
	int oflag;
} flag_cases[] = {
	{ "O_RDONLY", O_RDONLY },
	{ "O_RDWR", O_RDWR },
	{ "O_WRONLY", O_WRONLY },
	{ "O_RDONLY|O_CREAT", O_RDONLY | O_CREAT },
	{ "O_RDWR|O_CREAT", O_RDWR | O_CREAT },
	{ "O_WRONLY|O_CREAT", O_WRONLY | O_CREAT },
	{ "O_RDONLY|O_CREAT|O_EXCL", O_RDONLY | O_CREAT | O_EXCL },
	{ "O_RDWR|O_CREAT|O_EXCL", O_RDWR | O_CREAT | O_EXCL },
	{ "O_RDWR|O_EXCL", O_RDWR | O_EXCL },
	{ "O_RDONLY|O_TRUNC", O_RDONLY | O_TRUNC },
	{ "O_RDWR|O_TRUNC", O_RDWR | O_TRUNC },
	{ "O_RDWR|O_CREAT|O_TRUNC", O_RDWR | O_CREAT | O_TRUNC },
	{ "O_RDONLY|O_CREAT|O_TRUNC", O_RDONLY | O_CREAT | O_TRUNC },
	{ "O_RDWR|O_CREAT|O_EXCL|O_TRUNC", O_RDWR | O_CREAT | O_EXCL | O_TRUNC },
	{ "O_RDWR|O_NONBLOCK", O_RDWR | O_NONBLOCK },
	{ "O_RDWR|O_APPEND", O_RDWR | O_APPEND },
	{ "O_RDWR|O_CREAT|O_NOFOLLOW", O_RDWR | O_CREAT | O_NOFOLLOW },
};

/* Every flag combination on a missing object and on an existing one. */
static void shm_flag_cases(void)
{
	const char *name = make_name("/Xflags");
	char what[128];

	for (size_t i = 0; i < sizeof flag_cases / sizeof flag_cases[0]; i++) {
		const struct flag_case *c = &flag_cases[i];

		shm_unlink(name);
		snprintf(what, sizeof what, "%s missing", c->what);
		shm_call("shm flags", what, name, c->oflag);
		shm_fresh(name);
		snprintf(what, sizeof what, "%s existing", c->what);
		shm_call("shm flags", what, name, c->oflag);
	}
	shm_unlink(name);
}

static void sem_call(const char *id, const char *what, const char *name, int oflag,
		     unsigned value)
{
	sem_t *s = sem_open(name, oflag, 0600, value);
	int e = errno, v = -1;

	if (s == SEM_FAILED) {
		line(id, what, err_name(e));
		return;
	}
	char out[64];

	sem_getvalue(s, &v);
	snprintf(out, sizeof out, "ok value=%d", v);
	line(id, what, out);
	sem_close(s);
}

static void sem_unlink_call(const char *id, const char *what, const char *name)
{
	int r = sem_unlink(name), e = errno;

	line(id, what, errname(r, e));
}

static void sem_name_case(const char *pattern)
{
	const char *name = make_name(pattern);
	char id[128];

	snprintf(id, sizeof id, "sem \"%s\"", pattern);
	sem_call(id, "open missing", name, 0, 0);
	sem_unlink_call(id, "unlink missing", name);
	sem_call(id, "create excl", name, O_CREAT | O_EXCL, 3);
	sem_call(id, "create excl again", name, O_CREAT | O_EXCL, 3);
	sem_call(id, "open existing", name, 0, 0);
	sem_unlink_call(id, "unlink existing", name);
	sem_unlink_call(id, "unlink again", name);
}

static void sem_flag_cases(void)
{
	const char *name = make_name("/Xsemflags");
	static const struct flag_case sem_flags[] = {
		{ "0", 0 },
		{ "O_CREAT", O_CREAT },
		{ "O_CREAT|O_EXCL", O_CREAT | O_EXCL },
		{ "O_EXCL", O_EXCL },
		{ "O_RDWR", O_RDWR },
		{ "O_CREAT|O_RDWR", O_CREAT | O_RDWR },
	};
	char what[128];

	for (size_t i = 0; i < sizeof sem_flags / sizeof sem_flags[0]; i++) {
		sem_unlink(name);
		snprintf(what, sizeof what, "%s missing", sem_flags[i].what);
		sem_call("sem flags", what, name, sem_flags[i].oflag, 2);
		snprintf(what, sizeof what, "%s existing", sem_flags[i].what);
		sem_call("sem flags", what, name, sem_flags[i].oflag, 2);
	}
	sem_unlink(name);
	sem_call("sem flags", "O_CREAT value SEM_VALUE_MAX+1", name, O_CREAT,
		 (unsigned)SEM_VALUE_MAX + 1);
	sem_call("sem flags", "O_CREAT value SEM_VALUE_MAX", name, O_CREAT, SEM_VALUE_MAX);
	sem_unlink(name);
}

/* Names: empty, slashes, dots, relative, and the lengths around the
 * limits (255 for a file name; 251 with glibc's "sem." in front). */
static const char *const patterns[] = {
	"", "/", "//", "///", "X", "/X", "//X", "///X", "/X/y", "X/y", "X/", "/X/", "/X//",
	".", "..", "/.", "/..", "//.", "//..", "/...", "/.X", "/X.", "/ X", "/X\\",
	"/X#248", "/X#249", "/X#250", "/X#251", "/X#252", "/X#253", "/X#254", "/X#255",
	"/X#256", "/X#257", "/X#258", "/X#259", "/X#260", "/X#261", "/X#300", "/X#5000",
	"//X#251", "//X#252", "//X#255", "//X#256", "X#251", "X#252", "X#255", "X#256",
};

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: parity TAG\n");
		return 2;
	}
	tag = argv[1];
	umask(022);
	for (size_t i = 0; i < sizeof patterns / sizeof patterns[0]; i++) {
		shm_name_case(patterns[i]);
		sem_name_case(patterns[i]);
	}
	shm_flag_cases();
	sem_flag_cases();
	return 0;
}
