/*
 * debug.c - the one-line-per-call trace enabled by SHMSHIM_DEBUG=1.
 *
 * The line is written with a single writev(2), so lines from threads and
 * processes sharing stderr do not interleave, and stdio's locks and
 * buffers are never touched; only its short parts are formatted, in small
 * buffers, so that the trace costs little stack.
 */
#define _GNU_SOURCE
#include "debug.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

#include "errname.h"

static const char *access_name(int flags)
{
	switch (flags & O_ACCMODE) {
	case O_RDONLY: return "O_RDONLY";
	case O_WRONLY: return "O_WRONLY";
	case O_RDWR: return "O_RDWR";
	default: return "O_ACCMODE";
	}
}

static void format_flags(char *buf, size_t size, int flags)
{
	int other = flags & ~(O_ACCMODE | O_CREAT | O_EXCL | O_TRUNC);

	snprintf(buf, size, "%s%s%s%s", access_name(flags),
		 flags & O_CREAT ? "|O_CREAT" : "",
		 flags & O_EXCL ? "|O_EXCL" : "",
		 flags & O_TRUNC ? "|O_TRUNC" : "");
	if (other) {
		size_t n = strlen(buf);

		snprintf(buf + n, size - n, "|%#o", (unsigned)other);
	}
}

void debug_call(const char *call, const char *name, int flags, mode_t mode,
		const char *file, const char *why, int result)
{
	int saved = errno;
	char head[64], args[96] = "", outcome[96];
	struct iovec iov[9];

	if (flags >= 0) {
		char f[48];

		format_flags(f, sizeof f, flags);
		snprintf(args, sizeof args, ", %s, %#o", f, (unsigned)mode);
	}
	if (result < 0 && err_name(saved) != NULL)
		snprintf(outcome, sizeof outcome, " = -1 %s (%s)", err_name(saved),
			 err_text(saved));
	else if (result < 0)
		snprintf(outcome, sizeof outcome, " = -1 errno %d", saved);
	else
		snprintf(outcome, sizeof outcome, " = %d", result);
	snprintf(head, sizeof head, "shmshim[%ld]: %s(%s", (long)getpid(), call,
		 name ? "\"" : "");
	snprintf(args + strlen(args), sizeof args - strlen(args), ") file ");

	/* The name and the file can be long: written as they are. */
	iov[0] = (struct iovec){ head, strlen(head) };
	iov[1] = (struct iovec){ (void *)(name ? name : ""), name ? strlen(name) : 0 };
	iov[2] = (struct iovec){ "\"", name ? 1 : 0 };
	iov[3] = (struct iovec){ args, strlen(args) };
	iov[4] = (struct iovec){ (void *)(file ? file : "-"), strlen(file ? file : "-") };
	iov[5] = (struct iovec){ outcome, strlen(outcome) };
	/* Why the shim refused it, where a check of its own did. */
	iov[6] = (struct iovec){ ": ", why ? 2 : 0 };
	iov[7] = (struct iovec){ (void *)(why ? why : ""), why ? strlen(why) : 0 };
	iov[8] = (struct iovec){ "\n", 1 };
	(void)!writev(STDERR_FILENO, iov, 9);
	errno = saved;
}
