/*
 * debug.c - the one-line-per-call trace enabled by SHMSHIM_DEBUG=1.
 *
 * The line is formatted into a buffer on the stack and written with a
 * single write(2), so lines from threads and processes sharing stderr do
 * not interleave, and stdio's locks and buffers are never touched.
 */
#define _GNU_SOURCE
#include "debug.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define LINE_MAX_LEN (2 * PATH_MAX + 256)

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
		const char *file, int result)
{
	int saved = errno;
	char line[LINE_MAX_LEN], args[64] = "", outcome[64];
	int n;

	if (flags >= 0) {
		char f[48];

		format_flags(f, sizeof f, flags);
		snprintf(args, sizeof args, ", %s, %#o", f, (unsigned)mode);
	}
	if (result < 0)
		snprintf(outcome, sizeof outcome, "-1 %s (%s)",
			 strerrorname_np(saved) ? strerrorname_np(saved) : "?",
			 strerrordesc_np(saved) ? strerrordesc_np(saved) : "?");
	else
		snprintf(outcome, sizeof outcome, "%d", result);

	n = snprintf(line, sizeof line, "shmshim[%ld]: %s(\"%s\"%s) file %s = %s\n",
		     (long)getpid(), call, name ? name : "(null)", args,
		     file ? file : "-", outcome);
	if (n > 0)
		(void)!write(STDERR_FILENO, line,
			     (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
	errno = saved;
}
