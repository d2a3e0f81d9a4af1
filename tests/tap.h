/*
 * tap.h - a tiny Test Anything Protocol emitter for the C tests, plus the
 * helpers they share (the root directory, listing it, running a piece of a
 * test in a child process).
 */
#ifndef SHMSHIM_TAP_H
#define SHMSHIM_TAP_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "errname.h" /* the shim's errno names: not every C library has strerrorname_np */

/* Not every test uses every helper. */
#define TAP_FN static __attribute__((unused))

static int tap_count, tap_failures;
/* Set in a re-run of the program: its results become comments. */
static bool tap_nested __attribute__((unused));

TAP_FN void tap_vreport(bool pass, const char *file, int line, const char *fmt,
			va_list ap)
{
	printf("%s%s %d - ", tap_nested ? "#   (sub-run) " : "",
	       pass ? "ok" : "not ok", ++tap_count);
	vprintf(fmt, ap);
	putchar('\n');
	if (!pass) {
		printf("#   failed at %s line %d\n", file, line);
		tap_failures++;
	}
	fflush(stdout);
}

__attribute__((format(printf, 4, 5))) TAP_FN bool
tap_ok(bool pass, const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tap_vreport(pass, file, line, fmt, ap);
	va_end(ap);
	return pass;
}

#define ok(cond, ...) tap_ok((cond), __FILE__, __LINE__, __VA_ARGS__)

/* The call returned -1 with errno set to want. */
#define fails_with(expr, want, ...)                                           \
	do {                                                                  \
		errno = 0;                                                    \
		long got_ = (long)(expr);                                     \
		int err_ = errno;                                             \
		if (!ok(got_ == -1 && err_ == (want), __VA_ARGS__))           \
			printf("#   got %ld, errno %s, want -1 and %s\n", got_,  \
			       err_name(err_) ? err_name(err_) : "0", \
			       err_name(want));                        \
	} while (0)

__attribute__((format(printf, 1, 2))) TAP_FN void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

TAP_FN void skip(int n, const char *why)
{
	for (int i = 0; i < n; i++)
		printf("%sok %d # skip %s\n", tap_nested ? "#   (sub-run) " : "", ++tap_count, why);
	fflush(stdout);
}

TAP_FN int done_testing(void)
{
	printf("1..%d\n", tap_count);
	return tap_failures ? 1 : 0;
}

/*
 * Whether the shim creates semaphores under a temporary name and the
 * name's lock file: only where it cannot make a nameless file and link it
 * in, which takes /proc/thread-self/fd (tests/run's noproc variant hides /proc).
 */
TAP_FN bool sem_create_locks(void)
{
	return access("/proc/thread-self/fd", F_OK) != 0;
}

/* The start of the file at path (up to 8 KiB), in a static buffer: "" if unreadable. */
TAP_FN char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

/* Fatal error in the test itself. */
TAP_FN void bail(const char *what)
{
	printf("Bail out! %s: %s\n", what, strerror(errno));
	exit(255);
}

/* SHMSHIM_DIR, which the runner sets to a fresh directory. */
TAP_FN const char *test_root(void)
{
	const char *r = getenv("SHMSHIM_DIR");

	if (r == NULL || *r == '\0') {
		printf("Bail out! SHMSHIM_DIR is not set; run through tests/run\n");
		exit(255);
	}
	return r;
}

/*
 * An upper bound on how long something took: the invariants (a killed
 * holder delays nobody a second, waits go in steps of a millisecond) are
 * about time, and are checked in the preload and san runs. Under
 * valgrind, which runs everything many times slower, such a bound proves
 * nothing and fails by chance: it is reported as a skip, with its reason.
 */
#define timed_ok(cond, ...)                                                   \
	(getenv("SHMSHIM_TEST_VALGRIND")                                      \
		 ? (skip(1, "a time limit, not checked under valgrind (the preload and san runs do)"), true) \
		 : ok((cond), __VA_ARGS__))

TAP_FN bool quick(void)
{
	return getenv("SHMSHIM_TEST_QUICK") != NULL;
}

/* root/leaf in buf. */
TAP_FN const char *in_root(char *buf, size_t size, const char *leaf)
{
	snprintf(buf, size, "%s/%s", test_root(), leaf);
	return buf;
}

/*
 * Number of entries in dir other than . and .. and those whose names start
 * with skip (NULL: none), or -1.
 */
TAP_FN int count_entries_except(const char *dir, const char *skip)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    (skip == NULL || strncmp(e->d_name, skip, strlen(skip))))
			n++;
	closedir(d);
	return n;
}

/* Number of entries in dir other than . and .., or -1. */
TAP_FN int count_entries(const char *dir)
{
	return count_entries_except(dir, NULL);
}

/* Prints the entries of dir as diagnostics. */
TAP_FN void list_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			diag("  left in %s: %s", dir, e->d_name);
	closedir(d);
}

/* The root holds nothing: every object and lock is gone. */
TAP_FN bool root_is_empty(const char *why)
{
	int n = count_entries(test_root());
	bool pass = ok(n == 0, "root is empty %s", why);

	if (!pass)
		list_entries(test_root());
	return pass;
}

TAP_FN bool exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

TAP_FN bool is_symlink(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISLNK(st.st_mode);
}

TAP_FN double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

TAP_FN void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Waits for pid; returns its exit status, or 128 + signal. */
TAP_FN int wait_status(pid_t pid)
{
	int st;

	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Runs fn in a child process and returns its exit status. Output of the
 * child is TAP-silent: it reports through its exit status only.
 */
TAP_FN int in_child(int (*fn)(void *), void *arg)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0)
		_exit(fn(arg));
	return wait_status(pid);
}

/* The test program's own path, for re-running it with another setting. */
static const char *self_path __attribute__((unused));

/*
 * Where the tests run under an emulator (tests/run aarch64: qemu-aarch64,
 * named in SHMSHIM_TEST_EMULATOR), its name; else NULL.
 */
TAP_FN const char *test_emulator(void)
{
	const char *emu = getenv("SHMSHIM_TEST_EMULATOR");

	return emu && *emu ? emu : NULL;
}

/*
 * Starts this test program again with argv (argv[0] is self_path), under
 * strace with the options in trace if trace is not NULL; returns only if
 * it could not. LD_PRELOAD, the library under test, must reach the test
 * program and no other: a library built for musl or for another machine
 * cannot be loaded into the host's strace or emulator. So it is taken out
 * of the environment and handed on by strace's -E, or under an emulator
 * by QEMU_SET_ENV, which tests/run has set. Under an emulator the kernel
 * cannot start the program by itself (no binfmt_misc is assumed), so the
 * emulator starts it.
 */
TAP_FN void exec_self_traced(char *const trace[], char *const argv[])
{
	const char *emu = test_emulator();
	const char *preload = getenv("LD_PRELOAD");
	char env[PATH_MAX + 16];
	char *all[32];
	int n = 0;

	if (trace != NULL) {
		all[n++] = "strace";
		for (int i = 0; trace[i] && n < 16; i++)
			all[n++] = trace[i];
		if (preload != NULL && !emu) {
			snprintf(env, sizeof env, "LD_PRELOAD=%s", preload);
			all[n++] = "-E";
			all[n++] = env;
		}
	}
	if (trace != NULL || emu)
		unsetenv("LD_PRELOAD");
	if (emu)
		all[n++] = (char *)emu;
	for (int i = 0; argv[i] && n < 31; i++)
		all[n++] = argv[i];
	all[n] = NULL;
	execvp(all[0], all);
}

/* The same without strace. */
TAP_FN void exec_self(char *const argv[])
{
	exec_self_traced(NULL, argv);
}

/* Whether a program of this name is on PATH: without a shell, which a
 * library under test built for musl or another machine would keep from
 * starting. */
TAP_FN bool have_program(const char *name)
{
	const char *path = getenv("PATH");
	char file[PATH_MAX];

	while (path != NULL && *path) {
		size_t n = strcspn(path, ":");

		snprintf(file, sizeof file, "%.*s/%s", (int)n, path, name);
		if (n > 0 && access(file, X_OK) == 0)
			return true;
		path += n + (path[n] == ':');
	}
	return false;
}

/*
 * Runs this test program again as "self MODE" with the variable name set to
 * value in its environment and its stderr sent to err_path (NULL: kept).
 * Returns its exit status.
 */
TAP_FN int run_self(const char *mode, const char *name, const char *value,
		    const char *err_path)
{
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		if (value)
			setenv(name, value, 1);
		else
			unsetenv(name);
		if (err_path && freopen(err_path, "w", stderr) == NULL)
			_exit(126);
		exec_self((char *[]){(char *)self_path, (char *)mode, NULL});
		_exit(127);
	}
	return wait_status(pid);
}

#endif
