/* config.h - the library's settings, read from the environment once. */
#ifndef SHMSHIM_CONFIG_H
#define SHMSHIM_CONFIG_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>

#include "name.h"

#define DEFAULT_ROOT "/tmp"
#define DEFAULT_LOCK_TIMEOUT_MS 10000L

struct config {
	char root[PATH_MAX];    /* no trailing slash; "" means "/" */
	size_t name_max;        /* NAME_MAX of root */
	enum name_rules rules;  /* SHMSHIM_NAMES */
	long lock_timeout_ms;   /* SHMSHIM_LOCK_TIMEOUT_MS */
	bool debug;             /* SHMSHIM_DEBUG */
};

/* Fills c from the given values (any may be NULL: the default). */
void config_parse(struct config *c, const char *dir, const char *names,
		  const char *timeout, const char *debug);

/* The process's settings, read with secure_getenv on first use. */
const struct config *config_get(void);

#endif
