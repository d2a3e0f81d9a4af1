/*
 * notice.c - explaining, on standard error, a refusal the user can fix.
 *
 * A library must not chatter, but an unexplained failure is worse: the
 * program reports an errno about an object when the cause is a setting.
 * Every such explanation goes through here, so that each is said at most
 * once per process, in one writev(2) (no stdio: safe after fork, and lines
 * from several processes do not interleave), and SHMSHIM_QUIET=1 silences
 * them all. The flags below are the library's only mutable state besides
 * the settings, the semaphore table and the C library's functions found by
 * next.c: one bit per notice, set once.
 */
#define _GNU_SOURCE
#include "notice.h"

#include <errno.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

static int said[NOTICE_COUNT];

void notice_once(const struct config *cf, enum notice which, const char *const text[])
{
	static const char head[] = "shmshim: ";
	struct iovec line[10];
	int n = 0, saved = errno;

	if (cf->quiet || __atomic_exchange_n(&said[which], 1, __ATOMIC_RELAXED))
		return;
	line[n++] = (struct iovec){ (void *)head, sizeof head - 1 };
	for (int i = 0; i < 8 && text[i] != NULL; i++)
		line[n++] = (struct iovec){ (void *)text[i], strlen(text[i]) };
	line[n++] = (struct iovec){ (void *)"\n", 1 };
	(void)!writev(STDERR_FILENO, line, n);
	errno = saved;
}
