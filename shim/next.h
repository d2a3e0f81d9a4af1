/* next.h - the C library's own file calls, for those devshm.c interposes. */
#ifndef SHMSHIM_NEXT_H
#define SHMSHIM_NEXT_H

/*
 * The next definition of the named function after this library's, as the
 * dynamic linker would have bound it without us (the C library's, or
 * another preloaded library's): found with dlsym(RTLD_NEXT) on first use
 * and kept in *cache. NULL if there is none (errno is then ENOSYS).
 */
void *next_fn(void **cache, const char *name);

/* NEXT(name, cache): next_fn for a function, typed as it. */
#define NEXT(cache, name) ((__typeof__(&name))next_fn((void **)&(cache), #name))

#endif
