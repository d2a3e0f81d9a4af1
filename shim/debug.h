/* debug.h - the SHMSHIM_DEBUG trace. */
#ifndef SHMSHIM_DEBUG_H
#define SHMSHIM_DEBUG_H

#include <sys/types.h>

/*
 * Writes one line to standard error describing a finished call: its name,
 * the object name, flags and mode (flags < 0: none), the file it used
 * (NULL: none) and its result (with errno when result is -1, and why the
 * shim refused it when why is not NULL). Keeps errno.
 */
void debug_call(const char *call, const char *name, int flags, mode_t mode,
		const char *file, const char *why, int result);

#endif
