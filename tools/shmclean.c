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
#include "nosync.h"
#include "report.h"
#include "users.h"
#include "sysfile.h"

#ifndef SHMSHIM_VERSION
#define SHMSHIM_VERSION "unknown"
#endif

/*
 * What a plain run keeps for its age unless told otherwise: an orphan is
 * only unused now, and its producer may have closed it a moment ago for a
 * consumer that has yet to open it (DESIGN.md, shmclean).
 */
#define DEFAULT_OLDER_THAN 60

enum mode { MODE_CLEAN, MODE_LIST, MODE_REMOVE };

struct options {
	enum mode mode;     /* from list and remove, once they are known */
	const char *dir;
	bool list, remove, dry_run, force, json, quiet, verbose, sem;
	bool aged;          /* --older-than was given */
	long older_than;    /* seconds */
	time_t now;
};

static void usage(FILE *out)
{
	fputs("Usage: shmclean [OPTION]...             remove orphans and stale locks that\n"
	      "                                        have not changed for 60 s\n"
	      "       shmclean -l [-d DIR] [--json]    list objects and locks (read-only)\n"
	      "       shmclean -n [OPTION]...          say what would be removed (read-only)\n"
	      "       shmclean -r [OPTION]... NAME...  remove the named objects\n"
	      "\n"
	      "Finds the POSIX shared memory objects and System V segments that\n"
	      "libshmshim keeps as files (<root>/.SHMD<name>, <root>/.SHVD<id>), tells\n"
	      "which are in use, and removes those nobody uses.\n"
	      "Only -l and -n remove nothing; with --json, a plain run still removes.\n"
	      "\n"
	      "  -l, --list             list every object and lock, remove nothing\n"
	      "  -n, --dry-run          print what would be removed, remove nothing\n"
	      "  -r, --remove           unlink the named objects as shm_unlink would,\n"
	      "                         whatever their age, warning when they are in use\n"
	      "  -d, --dir DIR          the root (default: $SHMSHIM_DIR, else /tmp)\n"
	      "      --older-than AGE   remove only what last changed AGE or more ago\n"
	      "                         (default 60s): digits, alone (seconds) or with\n"
	      "                         s, m, h or d (30s, 10m, 2h, 7d); 0: whatever its age\n"
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
	      "Exit status: 0 when all asked was done, 1 when the root could not be\n"
	      "read or a removal failed, 2 for a usage error.\n",
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
 * "30s", "10m", "2h", "7d" or plain seconds, into *seconds: exactly the
 * documented forms, ASCII digits and at most one unit letter after them.
 * strtol would also take a sign, leading blanks and "-0"; an age that
 * means something other than what was typed must be refused, not guessed.
 * Returns 0, -1 when s is malformed, or -2 when its seconds do not fit in
 * a long, or the time that many seconds before now does not fit in one (a
 * clock before 1970 and a huge age). Multiplied regardless,
 * 144115188075855873d would wrap around to one day: a huge age must never
 * mean a small one.
 */
static int parse_duration(const char *s, time_t now, long *seconds)
{
	bool too_long = false;
	const char *p = s;
	long v = 0, unit;

	for (; *p >= '0' && *p <= '9'; p++) {
		int digit = *p - '0';

		if (v > (LONG_MAX - digit) / 10)
			too_long = true;
		else
			v = v * 10 + digit;
	}
	if (p == s)
		return -1;
	switch (*p) {
	case '\0':
	case 's': unit = 1; break;
	case 'm': unit = 60; break;
	case 'h': unit = 3600; break;
	case 'd': unit = 86400; break;
	default: return -1;
	}
	if (*p && p[1])
		return -1;
	if (too_long || v > LONG_MAX / unit)
		return -2;
	v *= unit;
	/* now - v >= LONG_MIN, asked without computing it */
	if (now < 0 && v > now - LONG_MIN)
		return -2;
	*seconds = v;
	return 0;
}

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

/* How many long options begin with the n bytes at name. */
static int long_matches(const char *name, size_t n)
{
	int found = 0;

	for (const struct option *l = longs; l->name; l++)
		found += strncmp(l->name, name, n) == 0;
	return found;
}

/* Whether val is the value of one of our options. */
static bool known_option(int val)
{
	for (const struct option *l = longs; l->name; l++)
		if (l->val == val)
			return true;
	return false;
}

/*
 * An option getopt_long refused (c is '?' or ':'), said once, under our
 * name: opterr is 0, so getopt_long itself says nothing. A long option
 * (optopt 0: unknown or ambiguous; else the option given an argument it
 * does not take, or missing its own) is named as written, from arg, the
 * argument getopt_long has just passed; a short one by optopt (arg may
 * then be another argument, when the option was not the last of a group).
 */
static _Noreturn void bad_option(int c, const char *arg)
{
	bool is_long = (optopt == 0 || known_option(optopt)) && strncmp(arg, "--", 2) == 0;
	char name[64];

	if (is_long)
		snprintf(name, sizeof name, "%.*s", (int)strcspn(arg, "="), arg);
	else
		snprintf(name, sizeof name, "-%c", optopt);
	if (c == ':')
		usage_error("option '", name, "' needs an argument");
	if (is_long && optopt != 0)
		usage_error("option '", name, "' takes no argument");
	if (is_long && long_matches(name + 2, strlen(name + 2)) > 1)
		usage_error("option '", name, "' is ambiguous");
	usage_error("unknown option '", name, "'");
}

/*
 * Options that contradict each other, or that would be ignored beside the
 * others, are usage errors: ignored, they would leave the user believing
 * they were obeyed (-l --older-than 1d lists everything; -q -v). The
 * first that applies is said.
 */
static void check_conflicts(const struct options *o)
{
	const struct {
		bool found;
		const char *what;
	} rules[] = {
		{ o->list && o->remove, "-l and -r do not go together" },
		{ o->list && o->dry_run, "-l and -n do not go together: -l lists everything, "
					 "-n what a run would remove" },
		{ o->list && o->force, "-l and --force do not go together: -l removes nothing" },
		{ o->list && o->aged, "-l and --older-than do not go together: -l removes nothing" },
		{ o->remove && o->json, "-r and --json do not go together" },
		{ o->remove && o->force, "-r and --force do not go together: -r removes the "
					 "named objects, in use or not" },
		{ o->remove && o->aged, "-r and --older-than do not go together: -r removes "
					"the named objects whatever their age" },
		{ o->sem && !o->remove, "--sem goes only with -r: it says the names are semaphores" },
		{ o->quiet && o->verbose, "-q and -v do not go together" },
		{ o->quiet && o->list, "-q and -l do not go together: -q prints only errors" },
		{ o->quiet && o->dry_run, "-q and -n do not go together: -q prints only errors" },
		{ o->quiet && o->json, "-q and --json do not go together: -q prints only errors" },
	};

	for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
		if (rules[i].found)
			usage_error(rules[i].what, NULL, "");
}

static void parse_options(int argc, char **argv, struct options *o)
{
	char limit[128];
	int c;

	memset(o, 0, sizeof *o);
	o->older_than = DEFAULT_OLDER_THAN;
	o->now = time(NULL);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":lnrd:fqvhV", longs, NULL)) != -1) {
		switch (c) {
		case 'l': o->list = true; break;
		case 'n': o->dry_run = true; break;
		case 'r': o->remove = true; break;
		case 'd': o->dir = optarg; break;
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'v': o->verbose = true; break;
		case OPT_SEM: o->sem = true; break;
		case OPT_JSON: o->json = true; break;
		case OPT_OLDER:
			o->aged = true;
			switch (parse_duration(optarg, o->now, &o->older_than)) {
			case -1:
				usage_error("--older-than: '", optarg,
					    "' is not a duration: digits, alone (seconds) or "
					    "with s, m, h or d, as in 30s, 10m, 2h, 7d");
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
		default: bad_option(c, argv[optind - 1]);
		}
	}
	check_conflicts(o);
	o->mode = o->list ? MODE_LIST : o->remove ? MODE_REMOVE : MODE_CLEAN;
	if (o->mode == MODE_REMOVE && optind == argc)
		usage_error("-r needs at least one object name", NULL, "");
	if (o->mode != MODE_REMOVE && optind < argc)
		usage_error("unexpected argument '", argv[optind], "' (names go with -r)");
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

/*
 * What became of the companion c of e (an object's or segment's lock
 * file, a segment's key link) once e was cleaned: removed with it, or
 * would be. A key link stays as long as its segment does, for the same
 * reason; a lock file is judged on its own. A link is not followed.
 */
static void follow(struct entry *c, const struct entry *e)
{
	const char *with = e->type == ENTRY_SYSV ? "with its segment" : "with its object";
	struct stat st;

	if (c == NULL || c->state == STATE_FOREIGN) /* never touched: not ours */
		return;
	if (strcmp(e->action, "removed") == 0 &&
	    stat_nosync(AT_FDCWD, c->path, &st, AT_SYMLINK_NOFOLLOW) < 0 && errno == ENOENT) {
		c->action = "removed";
		c->note = with;
	} else if (strcmp(e->action, "would remove") == 0) {
		c->action = e->action;
		c->note = with;
	} else if (c->type == ENTRY_SYSV_KEY && strcmp(e->action, "removed") != 0) {
		c->action = "kept";
		c->keep = e->keep != KEEP_NONE ? e->keep : KEEP_OTHER;
		c->note = "its segment is kept";
	}
}

/*
 * Cleans entry i; an object's removal takes its lock file with it, a
 * segment's its key link and lock file.
 */
static int clean_one(struct inventory *inv, size_t i, const struct clean_opts *co)
{
	struct entry *e = &inv->v[i];

	int r;

	if (e->action) /* done with its object */
		return 0;
	r = clean_entry(e, co);
	if (r < 0) {
		fputs("shmclean: cannot remove ", stderr);
		report_escape(stderr, e->path);
		fprintf(stderr, ": %s\n", strerror(e->error));
	}
	/* A segment that failed keeps its link: not tried again on its own. */
	follow((struct entry *)inventory_link_of(inv, i), e);
	follow((struct entry *)inventory_lock_of(inv, i), e);
	return r;
}

/*
 * Lists (-l), or cleans (plain, -n) and says what was done: one line per
 * removal, or per entry with -v, then a summary; the same as one JSON
 * document with --json, which never changes what is done.
 */
static int scan_and_act(const struct config *cf, const struct options *o)
{
	char limit[32], young_note[64];
	struct clean_opts co = { cf, o->dry_run, o->force, o->older_than, o->now, young_note };
	struct run run = { o->dry_run, o->older_than, limit };
	struct inventory inv;
	int status = 0;

	report_limit(limit, sizeof limit, o->older_than);
	snprintf(young_note, sizeof young_note, "changed in the last %s", limit);
	if (inventory_scan(&inv, cf->root) < 0) {
		complain(*cf->root ? cf->root : "/", strerror(errno));
		return 1;
	}
	users_classify(&inv);
	if (o->mode == MODE_CLEAN)
		for (size_t i = 0; i < inv.n; i++)
			if (clean_one(&inv, i, &co) < 0)
				status = 1;
	if (o->json) {
		report_json(stdout, &inv, o->now, o->mode == MODE_CLEAN ? &run : NULL);
	} else if (o->mode == MODE_LIST) {
		report_table(stdout, &inv, o->now);
	} else if (!o->quiet) {
		for (size_t i = 0; i < inv.n; i++)
			report_action(stdout, &inv.v[i], o->verbose);
		report_summary(stdout, &inv, &run);
	}
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
