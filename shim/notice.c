/*
 * notice.c - explaining, on standard error, a refusal the user can fix.
 *
 * A library must not chatter, but an unexplained failure is worse: the
 * program reports an errno about an object when the cause is a setting.
 * Every such explanation goes through here, so that each is said at most
 * once per process, in one write(2) (no stdio: safe after fork, and lines
 * from several processes do not interleave), and SHMSHIM_QUIET=1 silences
 * them all. The flags below are the library's only mutable state besides
 * the settings and the semaphore table: one bit per notice, set once.
 */
#define _GNU_SOURCE
#include "notice.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#define NOTICE_MAX 512

static int said[NOTICE_COUNT];

void notice_once(const struct config *cf, enum notice which, const char *text)
{
	static const char head[] = "shmshim: ";
	char line[NOTICE_MAX];
	size_t n = strlen(text);
	int saved = errno;

	if (cf->quiet || __atomic_exchange_n(&said[which], 1, __ATOMIC_RELAXED))
		return;
	if (n > sizeof line - sizeof head)
		n = sizeof line - sizeof head;
	/* head, then text, then a newline where head's NUL was counted. */
	memcpy(line, head, sizeof head);
	strncat(line, text, n);
	line[sizeof head - 1 + n] = '\n';
	(void)!write(STDERR_FILENO, line, sizeof head + n);
	errno = saved;
}
