/*
 * sem.c - sem_open, sem_close and sem_unlink, the interposed semaphore API.
 *
 * A named semaphore is a file holding one process-shared sem_t, mapped
 * into each process that opens it, so that the C library's own sem_wait,
 * sem_post and friends work on it unchanged. The file is <root>/.SEMDfoo,
 * under the same names, layout and lock as shared memory; a new one is
 * written in full under a temporary name and then linked into place
 * (object.c), so nobody ever opens a half-made semaphore.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdarg.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api.h"
#include "config.h"
#include "debug.h"
#include "object.h"
#include "oldsym.h"
#include "semreg.h"
#include "sysfile.h"

OLDSYM(sem_init); /* GLIBC_2.34 by default: see oldsym.h */

/* Maps the semaphore file fd and records it. Closes fd. */
static sem_t *map_semaphore(int fd, struct refusal *why)
{
	struct stat st;
	sem_t *sem, *addr;

	if (sys_fstat(fd, &st) < 0) {
		close_keep_errno(fd);
		return SEM_FAILED;
	}
	if (st.st_size < (off_t)sizeof(sem_t)) {
		/* Not one of ours: too short to hold a semaphore. */
		close(fd);
		refuse(why, EINVAL, "the file is too short to hold a semaphore");
		return SEM_FAILED;
	}
	sem = mmap(NULL, sizeof(sem_t), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close_keep_errno(fd);
	if (sem == MAP_FAILED)
		return SEM_FAILED;
	addr = semreg_open(st.st_dev, st.st_ino, sem);
	if (addr != sem) {
		int saved = errno;

		munmap(sem, sizeof(sem_t));
		errno = saved;
	}
	return addr ? addr : SEM_FAILED;
}

static sem_t *open_semaphore(const char *name, int oflag, mode_t mode,
			     unsigned value, struct obj_path *path, struct refusal *why)
{
	struct object_init init;
	sem_t initial;
	int fd;

	if (api_root_usable(config_get(), why) < 0)
		return SEM_FAILED;
	if ((oflag & O_CREAT) && value > SEM_VALUE_MAX) {
		refuse(why, EINVAL, "the value is above SEM_VALUE_MAX");
		return SEM_FAILED;
	}
	if (oflag & O_CREAT) {
		memset(&initial, 0, sizeof initial);
		sem_init(&initial, 1, value);
		init = (struct object_init){ &initial, sizeof initial };
	}
	/* Waiting and posting write to the file: always open read-write. */
	fd = object_open(config_get(), KIND_SEM, name,
			 O_RDWR | (oflag & (O_CREAT | O_EXCL)), mode,
			 (oflag & O_CREAT) ? &init : NULL, path, why);
	return fd < 0 ? SEM_FAILED : map_semaphore(fd, why);
}

EXPORT sem_t *sem_open(const char *name, int oflag, ...)
{
	struct obj_path path;
	struct refusal why = { NULL, 0 };
	mode_t mode = 0;
	unsigned value = 0;
	int state;
	sem_t *sem;

	va_list ap;

	/*
	 * The mode and value are there only with O_CREAT. (clang-tidy 14's
	 * analyzer does not see va_start here and reports a false alarm.)
	 */
	va_start(ap, oflag);
	if (oflag & O_CREAT) {
		mode = va_arg(ap, mode_t); /* NOLINT(clang-analyzer-valist.Uninitialized) */
		value = va_arg(ap, unsigned);
	}
	va_end(ap);
	path_init(&path);
	state = api_cancel_off();
	sem = open_semaphore(name, oflag, mode, value, &path, &why);
	api_explain(config_get(), "sem_open", KIND_SEM, name, sem == SEM_FAILED);
	api_trace("sem_open", name, O_RDWR | (oflag & (O_CREAT | O_EXCL)), mode, &path, &why,
		  sem == SEM_FAILED ? -1 : 0);
	path_release(&path);
	api_cancel_restore(state);
	return sem;
}

EXPORT int sem_close(sem_t *sem)
{
	int last = semreg_close(sem);

	if (last > 0)
		munmap(sem, sizeof(sem_t));
	if (config_get()->debug)
		debug_call("sem_close", NULL, -1, 0, NULL, NULL, last < 0 ? -1 : 0);
	return last < 0 ? -1 : 0;
}

EXPORT int sem_unlink(const char *name)
{
	return api_unlink("sem_unlink", KIND_SEM, name);
}
