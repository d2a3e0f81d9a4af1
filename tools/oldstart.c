/*
 * oldstart.c - enters the program through the first version of
 * __libc_start_main, so that one build of a program runs on glibc 2.17
 * and newer (README, Platforms).
 *
 * The start-up code (crt1.o) of glibc 2.34 and newer calls
 * __libc_start_main@GLIBC_2.34, which older glibc does not have. The
 * program is linked with -Wl,--wrap=__libc_start_main, so that the call
 * comes here, and we pass it to the first version, which every glibc
 * still has. That start-up code passes no init function: the new
 * __libc_start_main finds the program's constructors itself, the old one
 * would skip them. So we pass one that runs them; both versions call an
 * init function they are given, and then only it. Only for glibc on the
 * platforms we build for; elsewhere this file is empty.
 */
#include <limits.h> /* for __GLIBC__ */

#if defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#include <stddef.h>

#if defined(__x86_64__)
#define FIRST "GLIBC_2.2.5"
#else
#define FIRST "GLIBC_2.17"
#endif

typedef int main_fn(int, char **, char **);
typedef void init_fn(int, char **, char **);

/* The linker's bounds of the program's own constructors. */
extern init_fn *__init_array_start[] __attribute__((visibility("hidden")));
extern init_fn *__init_array_end[] __attribute__((visibility("hidden")));

int first_start_main(main_fn *main, int argc, char **argv, init_fn *init,
		     void (*fini)(void), void (*rtld_fini)(void), void *stack_end);
__asm__(".symver first_start_main,__libc_start_main@" FIRST);

int __wrap___libc_start_main(main_fn *main, int argc, char **argv, init_fn *init,
			     void (*fini)(void), void (*rtld_fini)(void), void *stack_end);

static void run_constructors(int argc, char **argv, char **envp)
{
	size_t n = (size_t)(__init_array_end - __init_array_start);

	for (size_t i = 0; i < n; i++)
		__init_array_start[i](argc, argv, envp);
}

int __wrap___libc_start_main(main_fn *main, int argc, char **argv, init_fn *init,
			     void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	return first_start_main(main, argc, argv, init ? init : run_constructors, fini,
				rtld_fini, stack_end);
}
#else
typedef int oldstart_unused;
#endif
