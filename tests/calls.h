/*
 * calls.h - one shim call in a fresh process, as another user, for the
 * tests of a shared root. A fresh process (the test program run again as
 * "PROGRAM call USER ...") because the library reads its settings, and
 * fs.protected_regular, when it is loaded. It starts as root and becomes
 * USER only then: the checkout may be closed to other users. The test's
 * main hands such arguments to call_main.
 *
 *   shm_open NAME OFLAG DATA   shm_open(NAME, OFLAG, 0600), then write DATA
 *                              at offset 0 (if not empty)
 *   shm_read NAME - DATA       shm_open(NAME, O_RDONLY): its first bytes
 *                              must be DATA (exit 101 if not)
 *   shm_unlink NAME            shm_unlink(NAME)
 *   sem_open NAME OFLAG post   sem_open(NAME, OFLAG, 0600, 1), and sem_post
 *                              if asked
 *   sem_unlink NAME            sem_unlink(NAME)
 */
#ifndef SHMSHIM_CALLS_H
#define SHMSHIM_CALLS_H

#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <semaphore.h>
#include <sys/mman.h>

#include "tap.h"

/* In a child: becomes user, or exits 120. */
TAP_FN void become(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (pw == NULL || setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		_exit(120);
}

static int call_errno(int failed)
{
	return failed ? (errno > 0 && errno < 100 ? errno : 99) : 0;
}

/* The "call" mode: performs one call; exit status 0 or its errno. */
TAP_FN int call_main(int argc, char **argv)
{
	const char *op = argv[3], *name = argv[4];
	int oflag = argc > 5 ? (int)strtol(argv[5], NULL, 0) : 0;
	const char *data = argc > 6 ? argv[6] : "";

	become(argv[2]);
	umask(0);
	if (strcmp(op, "shm_open") == 0) {
		int fd = shm_open(name, oflag, 0600);

		if (fd >= 0 && *data && pwrite(fd, data, strlen(data), 0) < 0)
			return 102;
		return call_errno(fd < 0);
	}
	if (strcmp(op, "shm_read") == 0) {
		char buf[256] = "";
		int fd = shm_open(name, O_RDONLY, 0);

		if (fd < 0)
			return call_errno(1);
		if (pread(fd, buf, sizeof buf - 1, 0) < 0)
			return 103;
		return strncmp(buf, data, strlen(data)) == 0 ? 0 : 101;
	}
	if (strcmp(op, "shm_unlink") == 0)
		return call_errno(shm_unlink(name) < 0);
	if (strcmp(op, "sem_open") == 0) {
		sem_t *s = sem_open(name, oflag, 0600, 1);

		if (s != SEM_FAILED && strcmp(data, "post") == 0 && sem_post(s) < 0)
			return 104;
		return call_errno(s == SEM_FAILED);
	}
	if (strcmp(op, "sem_unlink") == 0)
		return call_errno(sem_unlink(name) < 0);
	return 110;
}

/*
 * Runs "self call OP NAME OFLAG DATA" as user; returns the call's errno
 * (0: it worked), or 99 and up when something else went wrong.
 */
TAP_FN int call_as(const char *user, const char *op, const char *name, int oflag,
		   const char *data)
{
	char flags[16];
	pid_t pid;

	snprintf(flags, sizeof flags, "%#o", (unsigned)oflag);
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		exec_self((char *[]){(char *)self_path, "call", (char *)user, (char *)op,
				     (char *)name, flags, (char *)(data ? data : ""), NULL});
		_exit(127);
	}
	return wait_status(pid);
}

#endif
