/* semreg.h - the process's table of open named semaphores. */
#ifndef SHMSHIM_SEMREG_H
#define SHMSHIM_SEMREG_H

#include <semaphore.h>
#include <stdbool.h>
#include <sys/types.h>

/*
 * Records that the semaphore file dev/ino is mapped at mapped. If it was
 * open already, counts one more opening and returns the earlier address
 * (the caller unmaps its own mapping); else returns mapped. NULL with
 * errno ENOMEM when it cannot be recorded.
 */
sem_t *semreg_open(dev_t dev, ino_t ino, sem_t *mapped);

/*
 * Counts one closing of sem. Returns 1 when it was the last (the caller
 * unmaps it), 0 when others remain, -1 with EINVAL when sem is not an open
 * named semaphore.
 */
int semreg_close(const sem_t *sem);

#endif
