/*
 * shm.c - shm_open and shm_unlink, the interposed public API.
 *
 * Thin wrappers around object.c that add what the public calls promise:
 * cancellation is disabled for the whole call (POSIX does not make
 * shm_open a cancellation point, yet openat and nanosleep inside it are,
 * and a thread cancelled there would strand a half-made object), and the
 * SHMSHIM_DEBUG trace.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>

#include "config.h"
#include "debug.h"
#include "object.h"

#define EXPORT __attribute__((visibility("default")))

static void restore_cancel_state(int state)
{
	int saved = errno;

	pthread_setcancelstate(state, NULL);
	errno = saved;
}

EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	struct obj_path path;
	int cancel_state, fd;

	path.data[0] = '\0';
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	fd = object_open(config_get(), KIND_SHM, name, oflag, mode, NULL, &path);
	if (config_get()->debug)
		debug_call("shm_open", name, oflag, mode,
			   path.data[0] ? path.data : NULL, fd);
	restore_cancel_state(cancel_state);
	return fd;
}

EXPORT int shm_unlink(const char *name)
{
	struct obj_path path;
	int cancel_state, r;

	path.data[0] = '\0';
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &cancel_state);
	r = object_unlink(config_get(), KIND_SHM, name, &path);
	if (config_get()->debug)
		debug_call("shm_unlink", name, -1, 0,
			   path.data[0] ? path.data : NULL, r);
	restore_cancel_state(cancel_state);
	return r;
}
