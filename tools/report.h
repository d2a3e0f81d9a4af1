/* report.h - shmclean's output: a table for people, JSON for programs. */
#ifndef SHMCLEAN_REPORT_H
#define SHMCLEAN_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "inventory.h"

/*
 * Writes s so that it can neither drive a terminal nor fake the layout of
 * the output: valid UTF-8 that prints stays as it is; a backslash is
 * written as two, \\; each byte of a control character (C0, DEL, C1), of a
 * space or of an invisible or bidi character, and each byte that is not
 * valid UTF-8, is written \xhh (two lower-case hex digits).
 */
void report_escape(FILE *out, const char *s);

/* What a cleaning run (plain or -n) was asked, for its report. */
struct run {
	bool dry_run;
	long older_than;   /* seconds */
	const char *limit; /* the same for people, from report_limit */
};

/* seconds for people, into buf: "60 s", "10 min", "2 h", "7 d". */
void report_limit(char *buf, size_t size, long seconds);

/*
 * Lists every entry as a table, or says in one line that there is none.
 * AGE is the time since each file last changed (its ctime), the age that
 * --older-than compares.
 */
void report_table(FILE *out, const struct inventory *inv, time_t now);

/* One line for a cleaned entry: what was (or would be) done. */
void report_action(FILE *out, const struct entry *e, bool verbose);

/*
 * The closing line of a run: how many entries were (or would be) removed,
 * how many failed, and how many were kept and why; or, when the root
 * holds nothing of ours, one line that says so.
 */
void report_summary(FILE *out, const struct inventory *inv, const struct run *run);

/*
 * The whole inventory as one JSON document: a listing when run is NULL,
 * else with what was done to each entry and the summary.
 */
void report_json(FILE *out, const struct inventory *inv, time_t now, const struct run *run);

#endif
