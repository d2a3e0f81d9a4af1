/*
 * old_libpthread.c - a link-time stand-in for an old libpthread.so.0,
 * whose named-semaphore calls carried the version GLIBC_2.2.5, so that
 * symver_open binds them as programs built before glibc 2.34 do. Never
 * loaded at run time.
 */
#include <semaphore.h>

sem_t *sem_open(const char *name, int oflag, ...)
{
	(void)name, (void)oflag;
	return SEM_FAILED;
}

int sem_close(sem_t *sem)
{
	(void)sem;
	return -1;
}

int sem_unlink(const char *name)
{
	(void)name;
	return -1;
}
