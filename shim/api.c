/*
 * api.c - the frame of every interposed call: cancellation off for its
 * whole length, and the SHMSHIM_DEBUG trace line at its end. The unlink
 * calls of both kinds are nothing more than this frame around
 * object_unlink.
 */
#define _GNU_SOURCE
#include "api.h"

#include <errno.h>
#include <pthread.h>

#include "config.h"
#include "debug.h"
#include "notice.h"
#include "object.h"

int api_cancel_off(void)
{
	int state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	return state;
}

void api_cancel_restore(int state)
{
	int saved = errno;

	pthread_setcancelstate(state, NULL);
	errno = saved;
}

int api_root_usable(const struct config *cf)
{
	if (cf->root_error == 0)
		return 0;
	notice_once(cf, NOTICE_ROOT, cf->root_error == ENOENT
		? "SHMSHIM_DIR is set but empty, so shared memory and named semaphore "
		  "calls fail (ENOENT) rather than use the shared /tmp; set it to a "
		  "directory, or unset it for /tmp"
		: "SHMSHIM_DIR is longer than PATH_MAX, so shared memory and named "
		  "semaphore calls fail (ENAMETOOLONG); choose a shorter directory");
	errno = cf->root_error;
	return -1;
}

int api_unlink(const char *call, enum obj_kind kind, const char *name)
{
	struct obj_path path;
	int state = api_cancel_off(), r;

	path_init(&path);
	r = api_root_usable(config_get()) < 0
		    ? -1 : object_unlink(config_get(), kind, name, &path);
	if (config_get()->debug)
		debug_call(call, name, -1, 0, *path.data ? path.data : NULL, r);
	path_release(&path);
	api_cancel_restore(state);
	return r;
}
