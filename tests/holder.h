/*
 * holder.h - a process that holds a lock the way the shim or shmclean
 * does, for tests that need a holder to stall, outlive a time-out, or be
 * killed while holding it:
 *   HOLD_OBJECT     flock(LOCK_EX) on the object's data file
 *                   <root>/.SHMD<name> (made when missing), as shm_unlink
 *   HOLD_LOCK_FILE  flock(LOCK_EX) on the lock file <root>/.SEML<name>,
 *                   as sem_open creating a semaphore under a temporary
 *                   name; HOLD_LOCK_FILE_UNLINK also removes the file
 *                   before it lets go, as such a sem_open does
 *   HOLD_LEASE      a write lease on the existing data file, as shmclean
 *                   while it decides; HOLD_LEASE_UNLINK also removes the
 *                   file before giving the lease back, as shmclean does
 */
#ifndef SHMSHIM_HOLDER_H
#define SHMSHIM_HOLDER_H

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>

#include "tap.h"

enum hold { HOLD_OBJECT, HOLD_LOCK_FILE, HOLD_LOCK_FILE_UNLINK, HOLD_LEASE, HOLD_LEASE_UNLINK };

static __attribute__((unused)) const char *holder_path(enum hold how, const char *name,
						       char *path, size_t size)
{
	snprintf(path, size, "%s/%s%s", test_root(),
		 how == HOLD_LOCK_FILE || how == HOLD_LOCK_FILE_UNLINK ? ".SEML" : ".SHMD", name);
	return path;
}

/* In the child: takes the lock; returns the descriptor or -1. */
static __attribute__((unused)) int holder_take(enum hold how, const char *path)
{
	int fd;

	switch (how) {
	case HOLD_OBJECT:
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
		return fd >= 0 && flock(fd, LOCK_EX) == 0 ? fd : -1;
	case HOLD_LOCK_FILE:
	case HOLD_LOCK_FILE_UNLINK:
		fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);
		return fd >= 0 && flock(fd, LOCK_EX) == 0 ? fd : -1;
	default:
		/* A broken lease signals SIGIO, which would end us. */
		signal(SIGIO, SIG_IGN);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		return fd >= 0 && fcntl(fd, F_SETLEASE, F_WRLCK) == 0 ? fd : -1;
	}
}

/*
 * Starts a process that takes the lock of the flat name (without its
 * slash) and holds it for hold_ms milliseconds, or until killed when
 * hold_ms < 0 (HOLD_LOCK_FILE_UNLINK: until sent SIGUSR1, when it removes
 * the file and lets go). Returns once the lock is held.
 */
static __attribute__((unused)) pid_t start_holder_how(enum hold how, const char *name,
						      long hold_ms)
{
	char path[PATH_MAX], c;
	sigset_t usr1, old_mask;
	int pipefd[2];
	pid_t pid;

	holder_path(how, name, path, sizeof path);
	if (pipe(pipefd) < 0)
		bail("pipe");
	fflush(stdout);
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old_mask);
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		int fd = holder_take(how, path);

		if (fd < 0 || write(pipefd[1], "x", 1) != 1)
			_exit(1);
		if (hold_ms < 0 && how != HOLD_LOCK_FILE_UNLINK)
			for (;;)
				pause();
		if (hold_ms < 0) {
			/* Until told, by SIGUSR1 (blocked before the fork). */
			sigset_t usr1;
			int sig;

			sigemptyset(&usr1);
			sigaddset(&usr1, SIGUSR1);
			sigwait(&usr1, &sig);
		} else {
			sleep_ms(hold_ms);
		}
		if ((how == HOLD_LEASE_UNLINK || how == HOLD_LOCK_FILE_UNLINK) && unlink(path) < 0)
			_exit(1);
		flock(fd, LOCK_UN);
		_exit(0);
	}
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		bail("holder did not take the lock");
	close(pipefd[0]);
	return pid;
}

/* Holds the object's own lock, as shm_unlink does. */
static __attribute__((unused)) pid_t start_holder(const char *name, long hold_ms)
{
	return start_holder_how(HOLD_OBJECT, name, hold_ms);
}

static __attribute__((unused)) void kill_holder(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_status(pid);
}

#endif
