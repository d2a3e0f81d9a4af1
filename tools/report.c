/*
 * report.c - printing the inventory.
 *
 * The table is for people: one line per file, the POSIX name near the end
 * because it can be 255 characters long. The JSON document is for
 * programs: sizes in bytes, times as ISO 8601 in UTC and as an age in
 * seconds. A run that cleans ends with a summary: a line of text, or a
 * part of the JSON document. Ages count from the last change (ctime), as
 * the age limit does (clean.c says why).
 *
 * Names, paths and process names are chosen by whoever made the file or
 * runs the process, in a directory everyone shares: they are any bytes but
 * NUL (and '/' in a name). Nothing of them reaches the output raw. Text
 * goes through report_escape, so that a name can neither drive the
 * terminal nor fake a line or a column; JSON is always valid UTF-8, with
 * the exact bytes beside any string that is not.
 *
 * A System V segment has no name: it is shown by its key, in hex as ipcs
 * shows it, and its id; its size is the segment's, without the header.
 */
#define _GNU_SOURCE
#include "report.h"

#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <string.h>

static const char *owner_name(uid_t uid, char *buf, size_t size)
{
	struct passwd pw, *found = NULL;
	char scratch[1024];

	if (getpwuid_r(uid, &pw, scratch, sizeof scratch, &found) == 0 && found)
		snprintf(buf, size, "%s", found->pw_name);
	else
		snprintf(buf, size, "%u", (unsigned)uid);
	return buf;
}

static const char *type_label(const struct entry *e)
{
	if (e->type == ENTRY_DIR)
		return "dir";
	if (e->type == ENTRY_LOCK)
		return e->kind == KIND_SEM ? "sem-lock" : "shm-lock";
	if (e->type == ENTRY_TEMP)
		return "sem-temp";
	if (e->type == ENTRY_TREE)
		return S_ISDIR(e->st.st_mode) ? "shm-dir" : "shm-socket";
	if (e->type == ENTRY_SYSV_KEY)
		return "sysv-key";
	if (e->type == ENTRY_SYSV_LOCK)
		return "sysv-lock";
	return entry_kind(e);
}

/* The type in JSON: what kind of file it is (its kind says whose). */
static const char *json_type(const struct entry *e)
{
	switch (e->type) {
	case ENTRY_OBJECT: return "object";
	case ENTRY_LOCK:
	case ENTRY_SYSV_LOCK: return "lock";
	case ENTRY_TEMP: return "temporary";
	case ENTRY_DIR: return "directory";
	case ENTRY_TREE: return S_ISDIR(e->st.st_mode) ? "tree" : "socket";
	case ENTRY_SYSV: return "sysv";
	default: return "sysv-key";
	}
}

/* The size shown: a segment's is its memory's, without its header. */
static long long entry_size(const struct entry *e)
{
	if (e->type == ENTRY_SYSV && e->state != STATE_FOREIGN)
		return (long long)e->sysv.size;
	return (long long)e->st.st_size;
}

void report_limit(char *buf, size_t size, long seconds)
{
	if (seconds > 0 && seconds % 86400 == 0)
		snprintf(buf, size, "%ld d", seconds / 86400);
	else if (seconds > 0 && seconds % 3600 == 0)
		snprintf(buf, size, "%ld h", seconds / 3600);
	else if (seconds >= 120 && seconds % 60 == 0)
		snprintf(buf, size, "%ld min", seconds / 60);
	else
		snprintf(buf, size, "%ld s", seconds);
}

static void format_age(char *buf, size_t size, long long seconds)
{
	if (seconds < 0)
		seconds = 0;
	if (seconds < 120)
		snprintf(buf, size, "%llds", seconds);
	else if (seconds < 7200)
		snprintf(buf, size, "%lldm", seconds / 60);
	else if (seconds < 2LL * 86400)
		snprintf(buf, size, "%lldh", seconds / 3600);
	else
		snprintf(buf, size, "%lldd", seconds / 86400);
}

/*
 * Decodes the UTF-8 sequence at s into *cp and returns its length, or 0
 * when s does not start a valid one. Strict (RFC 3629): a stray
 * continuation byte, a cut-off sequence, an overlong form, a surrogate
 * (U+D800-U+DFFF) and anything past U+10FFFF are all invalid, because
 * JSON parsers and terminals that refuse them would otherwise be handed
 * what they refuse, or decode it to something else. The NUL at the end of
 * s is never a continuation byte, so no read goes past it.
 */
static size_t utf8_decode(const unsigned char *s, uint32_t *cp)
{
	unsigned char lo = 0x80, hi = 0xbf; /* allowed range of the 2nd byte */
	uint32_t c;
	size_t n;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2) /* continuation byte, or overlong 2-byte form */
		return 0;
	if (s[0] < 0xe0) {
		n = 2;
		c = s[0] & 0x1f;
	} else if (s[0] < 0xf0) {
		n = 3;
		c = s[0] & 0x0f;
		if (s[0] == 0xe0)
			lo = 0xa0; /* below: overlong */
		else if (s[0] == 0xed)
			hi = 0x9f; /* above: surrogates */
	} else if (s[0] < 0xf5) {
		n = 4;
		c = s[0] & 0x07;
		if (s[0] == 0xf0)
			lo = 0x90; /* below: overlong */
		else if (s[0] == 0xf4)
			hi = 0x8f; /* above: past U+10FFFF */
	} else {
		return 0;
	}
	if (s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	*cp = c;
	return n;
}

/* C0 controls, DEL and C1 controls: they drive a terminal. */
static bool is_control(uint32_t c)
{
	return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

/*
 * Characters that show as blank or as nothing, or that reorder what
 * follows them (the bidi controls): with them a name can look like another
 * name, or like more columns of the table. U+0020 itself is left to the
 * callers, since JSON has no need to hide it.
 */
static bool is_invisible(uint32_t c)
{
	return c == 0x00a0 || c == 0x061c || c == 0x1680 ||
	       (c >= 0x2000 && c <= 0x200f) ||  /* spaces, zero widths, LRM, RLM */
	       (c >= 0x2028 && c <= 0x202f) ||  /* line breaks, bidi embeddings */
	       (c >= 0x205f && c <= 0x2069) ||  /* space, invisible ops, isolates */
	       c == 0x3000 || c == 0xfeff;
}

void report_escape(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		uint32_t c = 0;
		size_t n = utf8_decode(p, &c);

		if (n == 0) {
			/* one bad byte: the next may begin a valid character */
			fprintf(out, "\\x%02x", *p);
			n = 1;
		} else if (c == '\\') {
			fputs("\\\\", out);
		} else if (c == ' ' || is_control(c) || is_invisible(c)) {
			for (size_t i = 0; i < n; i++)
				fprintf(out, "\\x%02x", p[i]);
		} else {
			fwrite(p, 1, n, out);
		}
		p += n;
	}
}

/* Whether all of s is valid UTF-8. */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	uint32_t c;
	size_t n;

	for (; *p; p += n)
		if ((n = utf8_decode(p, &c)) == 0)
			return false;
	return true;
}

/*
 * s as a JSON string, pure UTF-8 whatever s holds: each byte that is not
 * part of valid UTF-8 becomes U+FFFD (json_field adds the exact bytes),
 * and controls and invisible characters are \u escapes, so that the
 * document shows the same on a terminal as it parses.
 */
static void json_string(FILE *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', out);
	while (*p) {
		uint32_t c = 0;
		size_t n = utf8_decode(p, &c);

		if (n == 0) {
			fputs("\\ufffd", out);
			n = 1;
		} else if (c == '"' || c == '\\') {
			fprintf(out, "\\%c", (int)c);
		} else if (is_control(c) || is_invisible(c)) {
			fprintf(out, "\\u%04x", (unsigned)c);
		} else {
			fwrite(p, 1, n, out);
		}
		p += n;
	}
	fputc('"', out);
}

static void json_hex(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++)
		fprintf(out, "%02x", *p);
	fputc('"', out);
}

/*
 * "key": value, where value is a string or null. A value that is not valid
 * UTF-8 (a name is any bytes but '/' and NUL) cannot be a JSON string as
 * it is: it is shown with U+FFFD for each bad byte, and "key_hex" follows
 * with its exact bytes, so that nothing is lost and two names that differ
 * only in their bad bytes stay apart.
 */
static void json_field(FILE *out, const char *key, const char *value, bool comma)
{
	fprintf(out, "\"%s\": ", key);
	if (value)
		json_string(out, value);
	else
		fputs("null", out);
	if (value && !utf8_valid(value)) {
		fprintf(out, ", \"%s_hex\": ", key);
		json_hex(out, value);
	}
	if (comma)
		fputs(", ", out);
}

/*
 * now - then, saturated: an mtime is whatever the file's owner set, and a
 * ctime whatever the clock said (or a file system image holds).
 */
static long long age_of(time_t now, time_t then)
{
	long long n = now, t = then;

	if (t < 0 && n > LLONG_MAX + t)
		return LLONG_MAX;
	if (t > 0 && n < LLONG_MIN + t)
		return LLONG_MIN;
	return n - t;
}

/*
 * Writes what the text shows for an entry: its name, or else its path,
 * escaped; for a System V file, its key and id, written as they are (our
 * own digits): "key 0x0000162e id 1234" (a segment whose key cannot be
 * read: "id 1234"), "key 0x0000162e -> 1234" (a link), "key 0x0000162e".
 */
static void write_name(FILE *out, const struct entry *e)
{
	const struct sysv_info *v = &e->sysv;

	if (!entry_is_sysv(e) || e->state == STATE_FOREIGN) {
		report_escape(out, e->name ? e->name : e->path);
		return;
	}
	if (v->key_known)
		fprintf(out, "key 0x%08x", (unsigned)v->key);
	if (e->type == ENTRY_SYSV)
		fprintf(out, "%sid %d", v->key_known ? " " : "", v->id);
	else if (e->type == ENTRY_SYSV_KEY && v->id > 0)
		fprintf(out, " -> %d", v->id);
}

/* The one line for a root that holds nothing of ours. */
static void report_empty(FILE *out, const char *root)
{
	fputs("no objects in ", out);
	report_escape(out, *root ? root : "/");
	fputc('\n', out);
}

void report_table(FILE *out, const struct inventory *inv, time_t now)
{
	if (inv->n == 0) {
		report_empty(out, inv->root);
		return;
	}
	fprintf(out, "%-8s %-8s %12s %-10s %-5s %5s  %s\n", "STATE", "TYPE",
		"SIZE", "OWNER", "MODE", "AGE", "NAME (USERS)");
	for (size_t i = 0; i < inv->n; i++) {
		const struct entry *e = &inv->v[i];
		char owner[64], age[24];

		format_age(age, sizeof age, age_of(now, e->st.st_ctime));
		fprintf(out, "%-8s %-8s %12lld %-10s %04o  %5s  ", state_name(e->state),
			type_label(e), entry_size(e),
			owner_name(e->st.st_uid, owner, sizeof owner),
			(unsigned)(e->st.st_mode & 07777), age);
		write_name(out, e);
		for (size_t u = 0; u < e->n_users; u++) {
			fprintf(out, "%s%d(", u ? " " : "  ", (int)e->users[u].pid);
			report_escape(out, e->users[u].comm);
			fputc(')', out);
		}
		if (e->note)
			fprintf(out, "  [%s]", e->note);
		fputc('\n', out);
	}
}

void report_action(FILE *out, const struct entry *e, bool verbose)
{
	bool acted = strcmp(e->action, "kept") != 0;

	if (!acted && !verbose)
		return;
	fprintf(out, "%s %s ", e->action, type_label(e));
	write_name(out, e);
	fprintf(out, " (%s", state_name(e->state));
	if (e->type == ENTRY_OBJECT || e->type == ENTRY_SYSV)
		fprintf(out, ", %lld bytes", entry_size(e));
	if (e->note)
		fprintf(out, ", %s", e->note);
	fprintf(out, ")\n");
}

/* How many entries were removed, failed, and were kept, and why. */
struct tally {
	size_t removed, failed, kept;
	size_t why[N_KEEP_REASONS];
};

static void count(const struct inventory *inv, struct tally *t)
{
	memset(t, 0, sizeof *t);
	for (size_t i = 0; i < inv->n; i++) {
		const struct entry *e = &inv->v[i];

		if (strcmp(e->action, "failed") == 0) {
			t->failed++;
		} else if (strcmp(e->action, "kept") == 0) {
			t->kept++;
			t->why[e->keep == KEEP_NONE ? KEEP_OTHER : e->keep]++;
		} else { /* removed, would remove */
			t->removed++;
		}
	}
}

void report_summary(FILE *out, const struct inventory *inv, const struct run *run)
{
	static const char *const why[N_KEEP_REASONS] = {
		[KEEP_IN_USE] = "in use", [KEEP_YOUNG] = "changed in the last ",
		[KEEP_UNKNOWN] = "unknown", [KEEP_FOREIGN] = "foreign",
		[KEEP_OTHER_USER] = "of other users", [KEEP_OTHER] = "for other reasons",
	};
	const char *sep = " (";
	struct tally t;

	if (inv->n == 0) {
		report_empty(out, inv->root);
		return;
	}
	count(inv, &t);
	fprintf(out, "summary: %s %zu", run->dry_run ? "would remove" : "removed", t.removed);
	if (t.failed)
		fprintf(out, ", failed %zu", t.failed);
	fprintf(out, ", %s %zu", run->dry_run ? "would keep" : "kept", t.kept);
	for (int k = KEEP_IN_USE; k < N_KEEP_REASONS; k++) {
		if (t.why[k] == 0)
			continue;
		fprintf(out, "%s%zu %s%s", sep, t.why[k], why[k], k == KEEP_YOUNG ? run->limit : "");
		sep = ", ";
	}
	fputs(*sep == ',' ? ")\n" : "\n", out);
}

/*
 * t as ISO 8601 in UTC, into when; false when it cannot be. A file's
 * owner can set any mtime, even one gmtime cannot convert; ISO 8601
 * without an agreed extension has years 0000 to 9999 only.
 */
static bool iso_time(time_t t, char when[32])
{
	struct tm tm;

	return gmtime_r(&t, &tm) != NULL && tm.tm_year >= -1900 &&
	       tm.tm_year <= 9999 - 1900 &&
	       strftime(when, 32, "%Y-%m-%dT%H:%M:%SZ", &tm) > 0;
}

/*
 * "key" (hex, as ipcs shows it; null when unknown) and "id" (a segment's,
 * or the one a key link names; null when none) of a System V entry.
 */
static void json_sysv(FILE *out, const struct entry *e)
{
	const struct sysv_info *v = &e->sysv;
	char key[16];

	snprintf(key, sizeof key, "0x%08x", (unsigned)v->key);
	json_field(out, "key", v->key_known ? key : NULL, true);
	if (v->id > 0 && e->type != ENTRY_SYSV_LOCK)
		fprintf(out, "\"id\": %d, ", v->id);
	else
		fputs("\"id\": null, ", out);
}

static void json_entry(FILE *out, const struct entry *e, time_t now, bool with_actions)
{
	char owner[64], mtime[32], changed[32], mode[8];

	snprintf(mode, sizeof mode, "%04o", (unsigned)(e->st.st_mode & 07777));
	fputs("    {", out);
	json_field(out, "name", e->name, true);
	json_field(out, "type", json_type(e), true);
	json_field(out, "kind", entry_kind(e), true);
	json_field(out, "path", e->path, true);
	if (entry_is_sysv(e))
		json_sysv(out, e);
	fprintf(out, "\"hashed\": %s, \"size\": %lld, \"uid\": %u, ", e->hashed ? "true" : "false",
		entry_size(e), (unsigned)e->st.st_uid);
	json_field(out, "owner", owner_name(e->st.st_uid, owner, sizeof owner), true);
	json_field(out, "mode", mode, true);
	json_field(out, "mtime", iso_time(e->st.st_mtime, mtime) ? mtime : NULL, true);
	json_field(out, "ctime", iso_time(e->st.st_ctime, changed) ? changed : NULL, true);
	fprintf(out, "\"age_seconds\": %lld, ", age_of(now, e->st.st_ctime));
	json_field(out, "state", state_name(e->state), true);
	json_field(out, "note", e->note, true);
	if (with_actions) {
		json_field(out, "action", e->action, true);
		json_field(out, "error", e->error ? strerror(e->error) : NULL, true);
	}
	fputs("\"users\": [", out);
	for (size_t u = 0; u < e->n_users; u++) {
		fprintf(out, "%s{\"pid\": %d, ", u ? ", " : "", (int)e->users[u].pid);
		json_field(out, "comm", e->users[u].comm, false);
		fputc('}', out);
	}
	fputs("]}", out);
}

/* "summary": the counts of report_summary, by name. */
static void json_summary(FILE *out, const struct inventory *inv, const struct run *run)
{
	static const char *const why[N_KEEP_REASONS] = {
		[KEEP_IN_USE] = "in_use", [KEEP_YOUNG] = "changed_recently",
		[KEEP_UNKNOWN] = "unknown", [KEEP_FOREIGN] = "foreign",
		[KEEP_OTHER_USER] = "other_users", [KEEP_OTHER] = "other",
	};
	struct tally t;

	count(inv, &t);
	fprintf(out, "  \"summary\": {\"%s\": %zu, \"failed\": %zu, \"kept\": %zu",
		run->dry_run ? "would_remove" : "removed", t.removed, t.failed, t.kept);
	for (int k = KEEP_IN_USE; k < N_KEEP_REASONS; k++)
		fprintf(out, ", \"%s\": %zu", why[k], t.why[k]);
	fputs("}\n", out);
}

void report_json(FILE *out, const struct inventory *inv, time_t now, const struct run *run)
{
	fputs("{\n  ", out);
	json_field(out, "root", *inv->root ? inv->root : "/", true);
	fprintf(out, "\n  \"mode\": \"%s\",", run == NULL ? "list"
				       : run->dry_run ? "dry-run" : "clean");
	if (run)
		fprintf(out, " \"older_than_seconds\": %ld,", run->older_than);
	fputs("\n  \"entries\": [\n", out);
	for (size_t i = 0; i < inv->n; i++) {
		json_entry(out, &inv->v[i], now, run != NULL);
		fputs(i + 1 < inv->n ? ",\n" : "\n", out);
	}
	fputs(run ? "  ],\n" : "  ]\n", out);
	if (run)
		json_summary(out, inv, run);
	fputs("}\n", out);
}
