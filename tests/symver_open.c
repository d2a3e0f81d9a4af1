/*
 * symver_open.c - a client program for the preload tests.
 *
 *   symver_open create NAME   shm_open(NAME, O_RDWR|O_CREAT) and write "old"
 *   symver_open unlink NAME   shm_unlink(NAME)
 *   symver_open dlsym NAME    shm_open found by dlsym(RTLD_DEFAULT)
 *   symver_open sem NAME      sem_open(NAME, O_CREAT, 0600, 3), post, print
 *                             the value, sem_close
 *   symver_open semunlink NAME  sem_unlink(NAME)
 *
 * It is linked against old_librt and old_libpthread, so its references are
 * the old versioned symbols shm_open@GLIBC_2.2.5 from librt.so.1 and
 * sem_open@GLIBC_2.2.5 from libpthread.so.0.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

typedef int (*open_fn)(const char *, int, mode_t);

static int create(open_fn fn, const char *name)
{
	int fd = fn(name, O_RDWR | O_CREAT, 0600);

	if (fd < 0 || write(fd, "old", 3) != 3) {
		perror("shm_open");
		return 1;
	}
	close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: symver_open create|unlink|dlsym|sem|semunlink NAME\n");
		return 2;
	}
	if (strcmp(argv[1], "create") == 0)
		return create(shm_open, argv[2]);
	if (strcmp(argv[1], "unlink") == 0)
		return shm_unlink(argv[2]) == 0 ? 0 : 1;
	if (strcmp(argv[1], "sem") == 0) {
		sem_t *sem = sem_open(argv[2], O_CREAT, 0600, 3);
		int value = -1;

		if (sem == SEM_FAILED || sem_post(sem) < 0 || sem_getvalue(sem, &value) < 0)
			return 1;
		printf("%d\n", value);
		return sem_close(sem) == 0 ? 0 : 1;
	}
	if (strcmp(argv[1], "semunlink") == 0)
		return sem_unlink(argv[2]) == 0 ? 0 : 1;
	if (strcmp(argv[1], "dlsym") == 0) {
		open_fn fn = (open_fn)dlsym(RTLD_DEFAULT, "shm_open");

		return fn ? create(fn, argv[2]) : 1;
	}
	return 2;
}
