/*
 * shmclean.c - list shmshim's objects, tell which are in use, and remove
 * the leftovers. Options and the flow of one run; the work is in
 * inventory.c (what is there), users.c (who uses it), clean.c (removal
 * under the shim's own lock) and report.c (output).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "clean.h"
#include "config.h"
#include "inventory.h"
#include "report.h"
#include "users.h"
#include "sysfile.h"

#ifndef SHMSHIM_VERSION
#define SHMSHIM_VERSION "unknown"
#endif

enum mode { MODE_CLEAN, MODE_LIST, MODE_REMOVE };

struct options {
	enum mode mode;
	const char *dir;
	bool dry_run, force, json, quiet, verbose, sem;
	long older_than;
	time_t now;
};

static void usage(FILE *out)
{
	fputs("Usage: shmclean [OPTION]...          remove orphaned objects and stale locks\n"
	      "       shmclean -l [OPTION]...       list objects and locks\n"
	      "       shmclean -r [OPTION]... NAME...  remove the named objects\n"
	      "\n"
	      "Finds the POSIX shared memory objects that libshmshim keeps as files\n"
	      "(<root>/.SHMD<name>), tells which are in use, and removes those nobody uses.\n"
	      "\n"
	      "  -l, --list             list every object and lock, remove nothing\n"
	      "  -n, --dry-run          print what would be removed, remove nothing\n"
	      "  -r, --remove           unlink the named objects as shm_unlink would,\n"
	      "                         warning when they are in use\n"
	      "  -d, --dir DIR          the root (default: $SHMSHIM_DIR, else /tmp)\n"
	      "      --older-than AGE   remove only objects last modified more than AGE\n"
	      "                         ago: a number with s, m, h or d (30s, 10m, 2h, 7d)\n"
	      "  -f, --force            also remove objects whose use cannot be told\n"
	      "      --sem              with -r, the names are semaphores\n"
	      "      --json             print one JSON document instead of text\n"
	      "  -q, --quiet            print only errors\n"
	      "  -v, --verbose          also print what is kept, and why\n"
	      "  -h, --help             print this help\n"
	      "  -V, --version          print the version\n"
	      "\n"
	      "States: in-use, orphan, unknown (some process could not be inspected),\n"
	      "foreign (looks like ours but is not: never removed); lock files, which\n"
	      "live only during a call, are held or stale (left by a killed process).\n"
	      "Exit status: 0 when all asked was done, 1 when a removal failed,\n"
	      "2 for a usage error.\n",
	      out);
}

/*
 * A usage error: "shmclean: " what, then arg (escaped: it may come from a
 * script that got it from a file name), then rest, and a hint. Exits 2.
 */
static _Noreturn void usage_error(const char *what, const char *arg, const char *rest)
{
	fprintf(stderr, "shmclean: %s", what);
	if (arg)
		report_escape(stderr, arg);
	fprintf(stderr, "%s\nTry 'shmclean --help'.\n", rest);
	exit(2);
}

/* "shmclean: <path, escaped>: why" on stderr. */
static void complain(const char *path, const char *why)
{
	fputs("shmclean: ", stderr);
	report_escape(stderr, path);
	fprintf(stderr, ": %s\n", why);
}

/*
 * "30s", "10m", "2h", "7d" or plain seconds, into *seconds. Returns 0, -1
 * when s is malformed, or -2 when its seconds do not fit in a long, or the
 * time that many seconds before now does not fit in one (a clock before
 * 1970 and a huge age). Multiplied regardless, 144115188075855873d would
 * wrap around to one day: a huge age must never mean a small one.
 */
static int parse_duration(const char *s, time_t now, long *seconds)
{
	long v, unit;
	char *end;

	errno = 0;
	v = strtol(s, &end, 10);
	if (end == s || v < 0)
		return -1;
	switch (*end) {
	case '\0':
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (*end && end[1])
		return -1;
	if (errno == ERANGE || v > LONG_MAX / unit)
		return -2;
	v *= unit;
	/* now - v >= LONG_MIN, asked without computing it */
	if (now < 0 && v > now - LONG_MIN)
		return -2;
	*seconds = v;
	return 0;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_OLDER = 256, OPT_JSON, OPT_SEM };
	static const struct option longs[] = {
		{ "list", no_argument, NULL, 'l' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "remove", no_argument, NULL, 'r' },
		{ "dir", required_argument, NULL, 'd' },
		{ "older-than", required_argument, NULL, OPT_OLDER },
		{ "force", no_argument, NULL, 'f' },
		{ "sem", no_argument, NULL, OPT_SEM },
		{ "json", no_argument, NULL, OPT_JSON },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	char limit[128];
	int c;

	memset(o, 0, sizeof *o);
	o->older_than = -1;
	o->now = time(NULL);
	while ((c = getopt_long(argc, argv, "lnrd:fqvhV", longs, NULL)) != -1) {
		switch (c) {
		case 'l': o->mode = MODE_LIST; break;
		case 'n': o->dry_run = true; break;
		case 'r': o->mode = MODE_REMOVE; break;
		case 'd': o->dir = optarg; break;
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbose = true; break;
		case OPT_SEM: o->sem = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_OLDER:
			switch (parse_duration(optarg, o->now, &o->older_than)) {
			case -1:
				usage_error("--older-than: '", optarg,
					    "' is not a duration like 30s, 10m, 2h or 7d");
			case -2:
				snprintf(limit, sizeof limit, "' is too long: the most is "
					 "%ld seconds (%ldd)", LONG_MAX, LONG_MAX / 86400);
				usage_error("--older-than: '", optarg, limit);
			default:
				break;
			}
			break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("shmclean (shmshim) %s\n", SHMSHIM_VERSION); exit(0);
		default: usage_error("unknown option or missing argument", NULL, "");
		}
	}
	if (o->mode == MODE_REMOVE && optind == argc)
		usage_error("-r needs at least one object name", NULL, "");
	if (o->mode != MODE_REMOVE && optind < argc)
		usage_error("unexpected argument '", argv[optind], "' (names go with -r)");
	if (o->mode == MODE_REMOVE && o->json)
		usage_error("--json does not go with -r", NULL, "");
}

static int remove_named(const struct config *cf, const struct options *o,
			char **names, int n)
{
	int status = 0;

	for (int i = 0; i < n; i++) {
		bool in_use;

		if (o->dry_run) {
			if (!o->quiet) {
				fputs("would remove ", stdout);
				report_escape(stdout, names[i]);
				putchar('\n');
			}
			continue;
		}
		if (clean_named(cf, o->sem ? KIND_SEM : KIND_SHM, names[i], &in_use) < 0) {
			complain(names[i], strerror(errno));
			status = 1;
			continue;
		}
		if (in_use) {
			fputs("shmclean: warning: ", stderr);
			report_escape(stderr, names[i]);
			fputs(" was in use; its users keep it until they close it\n", stderr);
		}
		if (!o->quiet) {
			fputs("removed ", stdout);
			report_escape(stdout, names[i]);
			putchar('\n');
		}
	}
	return status;
}

/* Cleans entry i; an object's removal takes its lock file with it. */
static int clean_one(struct inventory *inv, size_t i, const struct clean_opts *co)
{
	struct entry *e = &inv->v[i];
	struct entry *lock = (struct entry *)inventory_lock_of(inv, i);

	if (e->action) /* done with its object */
		return 0;
	if (clean_entry(e, co) < 0) {
		fputs("shmclean: cannot remove ", stderr);
		report_escape(stderr, e->path);
		fprintf(stderr, ": %s\n", strerror(e->error));
		return -1;
	}
	if (lock && strcmp(e->action, "removed") == 0 && access(lock->path, F_OK) < 0) {
		lock->action = "removed";
		lock->note = "with its object";
	} else if (lock && strcmp(e->action, "would remove") == 0) {
		lock->action = e->action;
		lock->note = "with its object";
	}
	return 0;
}

static int scan_and_act(const struct config *cf, const struct options *o)
{
	struct clean_opts co = { cf, o->dry_run, o->force, o->older_than, o->now };
	struct inventory inv;
	int status = 0;

	if (inventory_scan(&inv, cf->root) < 0) {
		complain(*cf->root ? cf->root : "/", strerror(errno));
		return 1;
	}
	users_classify(&inv);
	if (o->mode == MODE_CLEAN)
		for (size_t i = 0; i < inv.n; i++)
			if (clean_one(&inv, i, &co) < 0)
				status = 1;
	if (o->json)
		report_json(stdout, cf->root, &inv, co.now, o->mode == MODE_CLEAN);
	else if (o->mode == MODE_LIST)
		report_table(stdout, &inv, co.now);
	else if (!o->quiet)
		for (size_t i = 0; i < inv.n; i++)
			report_action(stdout, &inv.v[i], o->verbose);
	inventory_free(&inv);
	return status;
}

/* A bad --dir or SHMSHIM_DIR: one line, exit 2. */
static _Noreturn void setting_error(const char *what, const char *problem)
{
	fprintf(stderr, "shmclean: %s %s\n", what, problem);
	exit(2);
}

/*
 * The root from --dir, else SHMSHIM_DIR; NULL for the default. An empty
 * or over-long value makes every library call fail (config_parse sets
 * root_error); a cleaner told to look at one directory must not clean
 * another, nor guess: here such a value is a usage error, said before
 * anything is looked at. max is the longest root config_parse keeps.
 */
static const char *root_given(const struct options *o, size_t max)
{
	const char *dir = o->dir ? o->dir : getenv("SHMSHIM_DIR");
	const char *what = o->dir ? "--dir" : "SHMSHIM_DIR";
	size_t len;

	if (dir == NULL)
		return NULL;
	if (*dir == '\0')
		setting_error(what, o->dir ? "is empty: give a directory"
				  : "is set but empty: give a directory, or unset it for /tmp");
	len = strlen(dir);
	if (len > max) {
		char problem[80];

		snprintf(problem, sizeof problem, "is too long: %zu bytes, the most is %zu",
			 len, max);
		setting_error(what, problem);
	}
	return dir;
}

int main(int argc, char **argv)
{
	struct options o;
	struct config cf;
	struct stat st;
	const char *root;

	parse_options(argc, argv, &o);
	/*
	 * The kernel signals a lease holder (SIGIO) when someone opens the
	 * file; lease_broken asks instead, and SIGIO's default would kill us.
	 */
	signal(SIGIO, SIG_IGN);
	config_parse(&cf, root_given(&o, sizeof cf.root - 1), getenv("SHMSHIM_NAMES"),
		     getenv("SHMSHIM_LOCK_TIMEOUT_MS"), NULL);
	if (cf.root_error) /* root_given has refused these already */
		return 2;
	root = *cf.root ? cf.root : "/";
	if (sys_fstatat(AT_FDCWD, root, &st, 0) < 0) {
		complain(root, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		complain(root, "not a directory");
		return 1;
	}
	if (o.mode == MODE_REMOVE)
		return remove_named(&cf, &o, argv + optind, argc - optind);
	return scan_and_act(&cf, &o);
}
