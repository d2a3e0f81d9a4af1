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

/* Lists every entry as a table. */
void report_table(FILE *out, const struct inventory *inv, time_t now);

/* One line for a cleaned entry: what was (or would be) done. */
void report_action(FILE *out, const struct entry *e, bool verbose);

/* The whole inventory as one JSON document. */
void report_json(FILE *out, const char *root, const struct inventory *inv,
		 time_t now, bool with_actions);

#endif
