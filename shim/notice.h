/* notice.h - the library's few words to the user, once per process each. */
#ifndef SHMSHIM_NOTICE_H
#define SHMSHIM_NOTICE_H

#include "config.h"

/* The things the library explains; each at most once per process. */
enum notice {
	NOTICE_ROOT,    /* SHMSHIM_DIR cannot be used */
	NOTICE_NAMES,   /* SHMSHIM_NAMES not understood */
	NOTICE_TIMEOUT, /* SHMSHIM_LOCK_TIMEOUT_MS not understood */
	NOTICE_STRICT,  /* a name only the strict rules refuse */
	NOTICE_DIR,     /* SHMSHIM_DIR missing, not a directory, not writable */
	NOTICE_SYSV,    /* SHMSHIM_SYSV not understood */
	NOTICE_COUNT,
};

/*
 * Writes "shmshim: ", the strings of text (up to a NULL, at most 8) one
 * after another, and a newline, to standard error with one writev(2),
 * unless this notice was given already in this process (or in the parent
 * it was forked from) or cf->quiet is set. Keeps errno. In pieces, so that
 * no caller needs a buffer for the whole line: a thread with the smallest
 * stack its C library allows may be the one whose call fails.
 */
void notice_once(const struct config *cf, enum notice which, const char *const text[]);

#endif
