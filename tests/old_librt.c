/*
 * old_librt.c - a link-time stand-in for an old librt.so.1, whose
 * shm_open and shm_unlink carried the version GLIBC_2.2.5. Linking
 * symver_open against it gives a program like those built before glibc
 * moved the calls into libc. Never loaded at run time: the real librt.so.1
 * is, and the calls resolve to the shim or to libc.
 */
#include <sys/types.h>

int shm_open(const char *name, int oflag, mode_t mode);
int shm_unlink(const char *name);

int shm_open(const char *name, int oflag, mode_t mode)
{
	(void)name, (void)oflag, (void)mode;
	return -1;
}

int shm_unlink(const char *name)
{
	(void)name;
	return -1;
}
