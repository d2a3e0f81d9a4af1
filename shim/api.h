/* api.h - what every interposed call does around its work. */
#ifndef SHMSHIM_API_H
#define SHMSHIM_API_H

#include <sys/types.h>

#include "path.h"

#define EXPORT __attribute__((visibility("default")))

/*
 * Disables thread cancellation for the rest of a call and returns the
 * state to restore: POSIX does not make these calls cancellation points,
 * yet openat and nanosleep inside them are, and a thread cancelled there
 * would strand a half-made object.
 */
int api_cancel_off(void);

/* Restores the cancellation state, keeping errno. */
void api_cancel_restore(int state);

#include "config.h"

/*
 * 0 when cf's root can be used; else -1 with errno set to why not, said
 * once on stderr (a set but empty or over-long SHMSHIM_DIR).
 */
int api_root_usable(const struct config *cf, struct refusal *why);

/*
 * The SHMSHIM_DEBUG line of a finished call (nothing unless it is on):
 * with why's reason when the call failed with the errno why recorded.
 */
void api_trace(const char *call, const char *name, int flags, mode_t mode,
	       const struct obj_path *path, const struct refusal *why, int result);

/*
 * After a call that failed (failed set): when the cause is the root (it
 * is missing, not a directory, or not writable for a create), or, for
 * EINVAL, that only the strict name rules refused name where glibc's
 * would have taken it, says so once per process on stderr, with the fix
 * (see notice.c). Keeps errno.
 */
void api_explain(const struct config *cf, const char *call, enum obj_kind kind,
		 const char *name, int failed);

/* shm_unlink and sem_unlink: unlink the object, traced as call. */
int api_unlink(const char *call, enum obj_kind kind, const char *name);

#endif
