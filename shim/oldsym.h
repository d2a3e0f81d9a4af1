/*
 * oldsym.h - binds a call to the oldest version of a glibc symbol, for a
 * library that loads on glibc 2.17 and newer (README, Platforms).
 *
 * glibc 2.34 moved the pthread and semaphore functions from libpthread
 * into libc and gave them a new default version, GLIBC_2.34; a library
 * linked on a newer glibc asks for that version and will not load on an
 * older one. The first version of each (GLIBC_2.2.5 on x86_64, GLIBC_2.17
 * on aarch64, where glibc starts) is still there, in libc since 2.34 and
 * in libpthread before, which is why the library also names libpthread
 * (a stub since 2.34). The function behaves the same under both versions.
 * Other C libraries (musl) have no symbol versions: nothing to do.
 *
 * Include it only where the symbol is called.
 */
#ifndef SHMSHIM_OLDSYM_H
#define SHMSHIM_OLDSYM_H

#if defined(__GLIBC__) && defined(__x86_64__)
#define OLDSYM(name) __asm__(".symver " #name "," #name "@GLIBC_2.2.5")
#elif defined(__GLIBC__) && defined(__aarch64__)
#define OLDSYM(name) __asm__(".symver " #name "," #name "@GLIBC_2.17")
#else
#define OLDSYM(name) struct oldsym_unused_##name
#endif

#endif
