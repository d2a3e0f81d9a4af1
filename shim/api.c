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

int api_unlink(const char *call, enum obj_kind kind, const char *name)
{
	struct obj_path path;
	int state = api_cancel_off(), r;

	path_init(&path);
	r = object_unlink(config_get(), kind, name, &path);
	if (config_get()->debug)
		debug_call(call, name, -1, 0, *path.data ? path.data : NULL, r);
	path_release(&path);
	api_cancel_restore(state);
	return r;
}
