/* report.h - shmclean's output: a table for people, JSON for programs. */
#ifndef SHMCLEAN_REPORT_H
#define SHMCLEAN_REPORT_H

#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "inventory.h"

/* Lists every entry as a table. */
void report_table(FILE *out, const struct inventory *inv, time_t now);

/* One line for a cleaned entry: what was (or would be) done. */
void report_action(FILE *out, const struct entry *e, bool verbose);

/* The whole inventory as one JSON document. */
void report_json(FILE *out, const char *root, const struct inventory *inv,
		 time_t now, bool with_actions);

#endif
