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
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "oldsym.h"
#include "sysfile.h"

OLDSYM(pthread_once); /* GLIBC_2.34 by default: see oldsym.h */

static struct config settings;
static pthread_once_t settings_once = PTHREAD_ONCE_INIT;

/* A flag variable is on unless unset, empty or "0". */
static bool set(const char *value)
{
	return value != NULL && *value != '\0' && strcmp(value, "0") != 0;
}

static long parse_timeout(const char *s, bool *ignored)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return DEFAULT_LOCK_TIMEOUT_MS;
	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || *end != '\0' || v < 0) {
		*ignored = true;
		return DEFAULT_LOCK_TIMEOUT_MS;
	}
	/* Past LONG_MAX (ERANGE) or past the cap: the cap, not a wrap. */
	if (errno == ERANGE || v > MAX_LOCK_TIMEOUT_MS)
		return MAX_LOCK_TIMEOUT_MS;
	return v;
}

void config_parse(struct config *c, const char *dir, const char *names,
		  const char *timeout, const char *debug)
{
	size_t n;
	long max;

	memset(c, 0, sizeof *c);
	/*
	 * Only an unset variable means /tmp. An empty or over-long one is a
	 * mistake (a script's "$UNSET", say) and must not quietly become the
	 * directory every user shares.
	 */
	if (dir == NULL)
		dir = DEFAULT_ROOT;
	else if (*dir == '\0')
		c->root_error = ENOENT;
	else if (strlen(dir) >= sizeof c->root)
		c->root_error = ENAMETOOLONG;
	if (c->root_error)
		dir = "";
	n = strlen(dir);
	while (n > 0 && dir[n - 1] == '/')
		n--;
	memcpy(c->root, dir, n);
	c->root[n] = '\0';

	max = pathconf(n ? c->root : "/", _PC_NAME_MAX);
	c->name_max = max > 0 && max < NAME_MAX ? (size_t)max : NAME_MAX;
	c->rules = names != NULL && strcmp(names, "glibc") == 0 ? NAME_GLIBC
								: NAME_STRICT;
	c->names_ignored = names != NULL && *names != '\0' && strcmp(names, "glibc") != 0 &&
			   strcmp(names, "strict") != 0;
	c->lock_timeout_ms = parse_timeout(timeout, &c->timeout_ignored);
	c->debug = set(debug);
}

/*
 * The kernel's fs.protected_regular, which the shim applies itself to an
 * O_CREAT open of an existing object (see object.c). 0 when it cannot be
 * read: the kernel's own default.
 */
static int read_protected_regular(void)
{
	char buf[16];
	int fd = sys_open("/proc/sys/fs/protected_regular", O_RDONLY | O_CLOEXEC, 0);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (int)strtol(buf, NULL, 10);
}

/*
 * Whether root is /dev/shm or in it. Then /dev/shm is there and usable,
 * and a path beneath it is the real thing: mapping /dev/shm/NAME/... into
 * the root would send the root's own paths (/dev/shm/root/...) elsewhere.
 */
static bool in_dev_shm(const char *root)
{
	return strncmp(root, "/dev/shm", 8) == 0 && (root[8] == '\0' || root[8] == '/');
}

/* SHMSHIM_SYSV: files, native, or auto (also when unset or empty). */
static enum sysv_setting parse_sysv(const char *s, bool *ignored)
{
	if (s != NULL && strcmp(s, "files") == 0)
		return SYSV_FILES;
	if (s != NULL && strcmp(s, "native") == 0)
		return SYSV_NATIVE;
	*ignored = s != NULL && *s != '\0' && strcmp(s, "auto") != 0;
	return SYSV_AUTO;
}

static void read_environment(void)
{
	const char *devshm;
	int saved = errno;

	config_parse(&settings, secure_getenv("SHMSHIM_DIR"),
		     secure_getenv("SHMSHIM_NAMES"),
		     secure_getenv("SHMSHIM_LOCK_TIMEOUT_MS"),
		     secure_getenv("SHMSHIM_DEBUG"));
	settings.quiet = set(secure_getenv("SHMSHIM_QUIET"));
	devshm = secure_getenv("SHMSHIM_DEVSHM");
	settings.devshm = (devshm == NULL || strcmp(devshm, "native") != 0) &&
			  !in_dev_shm(settings.root);
	settings.protected_regular = read_protected_regular();
	settings.sysv = parse_sysv(secure_getenv("SHMSHIM_SYSV"), &settings.sysv_ignored);
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
