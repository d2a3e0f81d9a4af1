/*
 * holder.h - a process that holds an object's lock the way the shim does
 * (flock(LOCK_EX) on <root>/.SHML<name>), for tests that need a holder to
 * stall, outlive a time-out, or be killed while holding it.
 */
#ifndef SHMSHIM_HOLDER_H
#define SHMSHIM_HOLDER_H

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>

#include "tap.h"

/*
 * Starts a process that takes the lock of the flat name (without its
 * slash) and holds it for hold_ms milliseconds, or until killed when
 * hold_ms < 0. Returns once the lock is held.
 */
static __attribute__((unused)) pid_t start_holder(const char *name, long hold_ms)
{
	char path[PATH_MAX], c;
	int pipefd[2];
	pid_t pid;

	snprintf(path, sizeof path, "%s/.SHML%s", test_root(), name);
	if (pipe(pipefd) < 0)
		bail("pipe");
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		bail("fork");
	if (pid == 0) {
		int fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0444);

		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			_exit(1);
		if (write(pipefd[1], "x", 1) != 1)
			_exit(1);
		if (hold_ms < 0)
			for (;;)
				pause();
		sleep_ms(hold_ms);
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1)
		bail("holder did not take the lock");
	close(pipefd[0]);
	return pid;
}

static __attribute__((unused)) void kill_holder(pid_t pid)
{
	kill(pid, SIGKILL);
	wait_status(pid);
}

#endif
