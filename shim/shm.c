/*
 * shm.c - shm_open and shm_unlink, the interposed public API for shared
 * memory: object.c's open and unlink in api.c's frame.
 */
#define _GNU_SOURCE
#include <sys/mman.h>

#include "api.h"
#include "config.h"
#include "debug.h"
#include "object.h"

EXPORT int shm_open(const char *name, int oflag, mode_t mode)
{
	struct obj_path path;
	struct refusal why = { NULL, 0 };
	int state = api_cancel_off(), fd;

	path_init(&path);
	fd = api_root_usable(config_get(), &why) < 0 || object_check_flags(oflag, &why) < 0
		? -1 : object_open(config_get(), KIND_SHM, name, oflag, mode, NULL, &path, &why);
	api_explain(config_get(), "shm_open", KIND_SHM, name, fd < 0);
	api_trace("shm_open", name, oflag, mode, &path, &why, fd);
	path_release(&path);
	api_cancel_restore(state);
	return fd;
}

EXPORT int shm_unlink(const char *name)
{
	return api_unlink("shm_unlink", KIND_SHM, name);
}
