/*
 * semreg.c - which named semaphores this process has open.
 *
 * POSIX wants repeated sem_open calls for one semaphore in a process to
 * return the same address, each balanced by a sem_close, and sem_close of
 * anything else to fail. That takes a table for the whole process: the one
 * piece of mutable global state in the library besides the settings. It is
 * guarded by a mutex that is held only for a list operation, never across
 * a system call; fork waits for it (pthread_atfork) so that a child never
 * inherits it locked, and the child keeps the table, as it keeps the
 * mappings.
 */
#define _GNU_SOURCE
#include "semreg.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

struct open_sem {
	struct open_sem *next;
	dev_t dev;
	ino_t ino;
	sem_t *addr;
	unsigned long opens;
};

static struct open_sem *open_sems;
static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

static void lock_table(void)
{
	pthread_mutex_lock(&table_lock);
}

static void unlock_table(void)
{
	pthread_mutex_unlock(&table_lock);
}

__attribute__((constructor)) static void semreg_setup(void)
{
	pthread_atfork(lock_table, unlock_table, unlock_table);
}

sem_t *semreg_open(dev_t dev, ino_t ino, sem_t *mapped)
{
	struct open_sem *s, *fresh = malloc(sizeof *fresh);
	sem_t *addr = mapped;

	lock_table();
	for (s = open_sems; s; s = s->next)
		if (s->dev == dev && s->ino == ino)
			break;
	if (s) {
		s->opens++;
		addr = s->addr;
	} else if (fresh) {
		*fresh = (struct open_sem){ open_sems, dev, ino, mapped, 1 };
		open_sems = fresh;
		fresh = NULL;
	} else {
		addr = NULL;
	}
	unlock_table();
	free(fresh);
	if (addr == NULL)
		errno = ENOMEM;
	return addr;
}

int semreg_close(const sem_t *sem)
{
	struct open_sem **p, *gone = NULL;
	int result = -1;

	lock_table();
	for (p = &open_sems; *p; p = &(*p)->next)
		if ((*p)->addr == sem)
			break;
	if (*p && --(*p)->opens == 0) {
		gone = *p;
		*p = gone->next;
		result = 1;
	} else if (*p) {
		result = 0;
	}
	unlock_table();
	free(gone);
	if (result < 0)
		errno = EINVAL;
	return result;
}
