/*
 * next.c - finding the C library's own file calls, the ones devshm.c
 * stands in for, to pass every path not beneath /dev/shm on to them.
 *
 * With dlsym(RTLD_NEXT), not the system calls themselves: another
 * preloaded library (fakeroot, say) may stand in for them too, and the C
 * library's open is a cancellation point and keeps its own conventions.
 * Each is looked up once, on its first call, and the pointer kept: a
 * lookup may run in several threads at once, and they all store the same
 * value. These pointers are the library's only state besides its settings,
 * the notices and the semaphore table. dlsym is bound to its first version
 * (it moved into libc in glibc 2.34).
 */
#define _GNU_SOURCE
#include "next.h"

#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>

#include "oldsym.h"

OLDSYM(dlsym);

void *next_fn(void **cache, const char *name)
{
	void *fn = __atomic_load_n(cache, __ATOMIC_ACQUIRE);

	if (fn == NULL) {
		fn = dlsym(RTLD_NEXT, name);
		if (fn == NULL) {
			errno = ENOSYS;
			return NULL;
		}
		__atomic_store_n(cache, fn, __ATOMIC_RELEASE);
	}
	return fn;
}
