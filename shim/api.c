/*
 * api.c - the frame of every interposed call: cancellation off for its
 * whole length, and the SHMSHIM_DEBUG trace line at its end. The unlink
 * calls of both kinds are nothing more than this frame around
 * object_unlink.
 */
#define _GNU_SOURCE
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "debug.h"
#include "notice.h"
#include "object.h"
#include "sysfile.h"

int api_cancel_off(void)
{
	int state;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &state);
	return state;
}

void api_cancel_restore(int state)
{
	int saved = errno;

	pthread_setcancelstate(state, NULL);
	errno = saved;
}

int api_root_usable(const struct config *cf, struct refusal *why)
{
	if (cf->names_ignored)
		notice_once(cf, NOTICE_NAMES, (const char *const[]){
			"SHMSHIM_NAMES is not understood (it takes glibc or strict): "
			"the strict rules are used", NULL });
	if (cf->timeout_ignored)
		notice_once(cf, NOTICE_TIMEOUT, (const char *const[]){
			"SHMSHIM_LOCK_TIMEOUT_MS is not a whole number of milliseconds: "
			"the default, 10000, is used", NULL });
	if (cf->root_error == 0)
		return 0;
	notice_once(cf, NOTICE_ROOT, (const char *const[]){ cf->root_error == ENOENT
		? "SHMSHIM_DIR is set but empty, so shared memory and named semaphore "
		  "calls fail (ENOENT) rather than use the shared /tmp; set it to a "
		  "directory, or unset it for /tmp"
		: "SHMSHIM_DIR is longer than PATH_MAX, so shared memory and named "
		  "semaphore calls fail (ENAMETOOLONG); choose a shorter directory", NULL });
	return refuse(why, cf->root_error, cf->root_error == ENOENT
		      ? "SHMSHIM_DIR is set but empty" : "SHMSHIM_DIR is longer than PATH_MAX");
}

void api_trace(const char *call, const char *name, int flags, mode_t mode,
	       const struct obj_path *path, const struct refusal *why, int result)
{
	const char *reason = result < 0 && why->why != NULL && why->err == errno
		? why->why : NULL;

	if (config_get()->debug)
		debug_call(call, name, flags, mode, *path->data ? path->data : NULL,
			   reason, result);
}

/* Writes byte c as \xhh at out + n; returns the new length. */
static size_t hex_escape(char *out, size_t n, unsigned char c)
{
	static const char digits[] = "0123456789abcdef";

	out[n++] = '\\';
	out[n++] = 'x';
	out[n++] = digits[c >> 4];
	out[n++] = digits[c & 15];
	return n;
}

/* name, for a message: at most max bytes, bytes not printable as \xhh. */
static void quote(char *out, size_t size, const char *name, size_t max)
{
	size_t n = 0;

	for (const unsigned char *p = (const unsigned char *)name; *p && n + 8 < size; p++) {
		if (max-- == 0) {
			memcpy(out + n, "...", 3);
			n += 3;
			break;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			out[n++] = (char)*p;
		else
			n = hex_escape(out, n, *p);
	}
	out[n] = '\0';
}

/*
 * A failure whose cause is the root itself: missing (the shim does not
 * create it: a mistyped SHMSHIM_DIR must not quietly become a new,
 * unprotected directory), not a directory, or not writable for a create.
 * Looked at only after a failure, so it costs nothing on success.
 */
static void explain_root(const struct config *cf, int err, bool creating)
{
	const char *root = *cf->root ? cf->root : "/";
	const char *why = NULL;
	char quoted[160];
	struct stat st;

	if (err != ENOENT && err != ENOTDIR && err != EACCES && err != EROFS)
		return;
	if (sys_fstatat(AT_FDCWD, root, &st, 0) < 0)
		why = errno == ENOENT ? "does not exist (the shim does not create it)"
				      : "cannot be reached";
	else if (!S_ISDIR(st.st_mode))
		why = "is not a directory";
	else if (creating && sys_eaccess(root, W_OK | X_OK) < 0)
		why = errno == EROFS ? "is on a read-only file system" : "is not writable by this user";
	if (why == NULL)
		return;
	static const char advice[] = ", so shared memory and named semaphore calls fail "
		"there; set SHMSHIM_DIR to a directory you can write, or unset it for /tmp";
	quote(quoted, sizeof quoted, root, 120);
	notice_once(cf, NOTICE_DIR,
		    (const char *const[]){ "the objects' directory ", quoted, " ", why, advice, NULL });
}

void api_explain(const struct config *cf, const char *call, enum obj_kind kind,
		 const char *name, int failed)
{
	char quoted[160];
	const char *bare;
	size_t len;
	int saved = errno;

	if (failed)
		explain_root(cf, saved, strcmp(call, "shm_open") == 0 || strcmp(call, "sem_open") == 0);
	errno = saved;
	/* Only where the strict rules, and no other check, refused it. */
	if (!failed || saved != EINVAL || cf->rules != NAME_STRICT || name == NULL ||
	    name_check(name, NAME_STRICT, kind, cf->name_max, &bare, &len) == 0 ||
	    name_check(name, NAME_GLIBC, kind, cf->name_max, &bare, &len) != 0)
		return;
	static const char advice[] = "\") fails with EINVAL: the strict (illumos) name rules "
		"want one leading slash and no other, and glibc would take this name; set "
		"SHMSHIM_NAMES=glibc, or run under 'shmshim --names glibc', for glibc's rules";
	quote(quoted, sizeof quoted, name, 64);
	notice_once(cf, NOTICE_STRICT, (const char *const[]){ call, "(\"", quoted, advice, NULL });
	errno = saved;
}

int api_unlink(const char *call, enum obj_kind kind, const char *name)
{
	struct obj_path path;
	struct refusal why = { NULL, 0 };
	int state = api_cancel_off(), r;

	path_init(&path);
	r = api_root_usable(config_get(), &why) < 0
		    ? -1 : object_unlink(config_get(), kind, name, &path, &why);
	api_explain(config_get(), call, kind, name, r < 0);
	api_trace(call, name, -1, 0, &path, &why, r);
	path_release(&path);
	api_cancel_restore(state);
	return r;
}
