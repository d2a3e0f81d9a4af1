/* config.h - the library's settings, read from the environment once. */
#ifndef SHMSHIM_CONFIG_H
#define SHMSHIM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "name.h"

#define DEFAULT_ROOT "/tmp"
#define DEFAULT_LOCK_TIMEOUT_MS 10000L
/* Longer time-outs are cut to this (about 24.8 days), so that no deadline overflows. */
#define MAX_LOCK_TIMEOUT_MS 2147483647L

/* SHMSHIM_SYSV: where System V shared memory lives (sysv.c). */
enum sysv_setting {
	SYSV_AUTO,   /* the kernel's, unless it refuses: then files */
	SYSV_FILES,  /* always files in the root */
	SYSV_NATIVE, /* always the kernel's */
};

struct config {
	char root[PATH_MAX];    /* no trailing slash; "" means "/" */
	int root_error;         /* 0, or why SHMSHIM_DIR cannot be used: every call fails with it */
	size_t name_max;        /* NAME_MAX of root */
	enum name_rules rules;  /* SHMSHIM_NAMES */
	long lock_timeout_ms;   /* SHMSHIM_LOCK_TIMEOUT_MS */
	bool debug;             /* SHMSHIM_DEBUG */
	bool names_ignored;     /* SHMSHIM_NAMES set to something not understood */
	bool timeout_ignored;   /* SHMSHIM_LOCK_TIMEOUT_MS likewise */
	bool quiet;             /* SHMSHIM_QUIET: no notices */
	bool devshm;            /* paths beneath /dev/shm are objects (SHMSHIM_DEVSHM not native) */
	int protected_regular;  /* fs.protected_regular, read when the library loads */
	enum sysv_setting sysv; /* SHMSHIM_SYSV */
	bool sysv_ignored;      /* SHMSHIM_SYSV set to something not understood */
};

/*
 * Fills c from the given values (any may be NULL: the default). A dir
 * that is empty, or too long for PATH_MAX, is not replaced by the default:
 * root_error says why it cannot be used (ENOENT, ENAMETOOLONG) and root
 * is left empty. quiet and protected_regular are left 0.
 */
void config_parse(struct config *c, const char *dir, const char *names,
		  const char *timeout, const char *debug);

/* The process's settings, read with secure_getenv on first use. */
const struct config *config_get(void);

#endif
