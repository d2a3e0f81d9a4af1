/*
 * config.c - the settings, read once from the environment.
 *
 * This is the only process-wide state in the library, written once under
 * pthread_once and read-only afterwards. Variables are read with
 * secure_getenv, so a set-user-ID program ignores them and keeps /tmp.
 */
#define _GNU_SOURCE
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct config settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

static long parse_timeout(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return DEFAULT_LOCK_TIMEOUT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < 0)
		return DEFAULT_LOCK_TIMEOUT_MS;
	return v;
}

void config_parse(struct config *c, const char *dir, const char *names,
		  const char *timeout, const char *debug)
{
	size_t n;
	long max;

	if (dir == NULL || *dir == '\0' || strlen(dir) >= sizeof c->root)
		dir = DEFAULT_ROOT;
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	memcpy(c->root, dir, n);
	c->root[n] = '\0';

	max = pathconf(n ? c->root : "/", _PC_NAME_MAX);
	c->name_max = max > 0 && max < NAME_MAX ? (size_t)max : NAME_MAX;
	c->rules = names != NULL && strcmp(names, "glibc") == 0 ? NAME_GLIBC
								: NAME_STRICT;
	c->lock_timeout_ms = parse_timeout(timeout);
	c->debug = debug != NULL && *debug != '\0' && strcmp(debug, "0") != 0;
}

static void read_environment(void)
{
	int saved = errno;

	config_parse(&settings, secure_getenv("SHMSHIM_DIR"),
		     secure_getenv("SHMSHIM_NAMES"),
		     secure_getenv("SHMSHIM_LOCK_TIMEOUT_MS"),
		     secure_getenv("SHMSHIM_DEBUG"));
	errno = saved;
}

const struct config *config_get(void)
{
	pthread_once(&settings_once, read_environment);
	return &settings;
}

/* Read the settings at load time, while the process is single-threaded. */
__attribute__((constructor)) static void config_load(void)
{
	config_get();
}
