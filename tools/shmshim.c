/*
 * shmshim.c - the launcher: runs a command with libshmshim.so first in
 * LD_PRELOAD, so that its POSIX shared memory objects and named semaphores
 * are plain files in a directory (default /tmp). See shmshim(1).
 *
 * Why it is written the way it is:
 *
 * - Compiled, and linked statically where the C library allows (see the
 *   Makefile): the shell script it replaces cost about 5 ms a run in
 *   subshells; this costs one exec, the C library's start-up and about 20
 *   system calls, some 0.6 ms over a bare LD_PRELOAD on a 2-core VM (make
 *   bench), where a dynamically linked build costs 0.3 ms more.
 *
 * - Where the library is. SHMSHIM_LIBREL (compiled in) is the library's
 *   directory relative to the launcher's own, and SHMSHIM_LIBDIR the
 *   directory it was installed to. The launcher's own directory is that
 *   of /proc/self/exe: the kernel's name for the file, right however the
 *   launcher was reached (PATH, a relative path, a symbolic link to it
 *   from elsewhere, a DESTDIR staging tree). Without /proc (some
 *   sandboxes) argv[0] stands in, resolved with realpath, or looked up in
 *   PATH when it has no slash, as a shell found it. The first candidate
 *   holding the library is used, never a later one because the first is
 *   unusable: that would quietly load another build's library. The path
 *   used is made canonical (directory resolved, file name kept), as
 *   --print-lib shows.
 *
 * - A space or a colon in that path (or other white space, where musl
 *   splits too): refused, exit 125. The loader splits LD_PRELOAD there and
 *   knows no escape, so the program would run without the shim (the loader
 *   only warns), which must never happen. Every way around it
 *   changes something else: a symbolic link or copy in a clean directory
 *   is a file nobody removes once we exec; /proc/self/fd/N names another
 *   file in every child that closes or reuses descriptor N (Python's
 *   subprocess closes them all); a bare name with the directory put in
 *   LD_LIBRARY_PATH changes how every library of the program and of its
 *   children is found. Since the path is canonical, a path with a space
 *   that only leads to the library through a symbolic link is fine.
 *
 * - Programs the library cannot affect: before the exec, the file that
 *   execvp will run is found (the same PATH search) and its ELF header
 *   read. A program without a program interpreter (statically linked,
 *   static-pie too) or of another class, byte order or machine than the
 *   library gets a one-line warning, and runs anyway. Scripts (#!) get
 *   none and their interpreter is not followed: it is most often
 *   /usr/bin/env or a shell, and what it starts next cannot be known.
 *   The check only reads; anything unexpected (unreadable, not a regular
 *   file, odd headers) means no warning, never a refusal.
 *
 * - The exec is execvp's, so the command is found, and a file without #!
 *   is run by /bin/sh, exactly as by a shell or env(1). Exit status as
 *   env(1), nice(1) and POSIX shells have it: 127 when the command is not
 *   found, 126 when it is found but cannot be run; 125 for the launcher's
 *   own failures, 2 for a usage error.
 *
 * - Options end at the first argument that is not one (getopt's "+"), so
 *   the command's own options pass through untouched.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef SHMSHIM_VERSION
#define SHMSHIM_VERSION "unknown"
#endif
#ifndef SHMSHIM_LIBREL
#define SHMSHIM_LIBREL "."
#endif
#ifndef SHMSHIM_LIBDIR
#define SHMSHIM_LIBDIR "/usr/local/lib"
#endif

#define LIB_NAME "libshmshim.so"
/*
 * Where the loader splits LD_PRELOAD: glibc at spaces and colons, musl at
 * colons and any white space. The library's path may hold none of them;
 * entries already there are split at glibc's and kept as written, so each
 * loader reads them as it did.
 */
#define PRELOAD_SEPARATORS " :"
#define NOT_IN_PRELOAD_PATH " :\t\n\v\f\r"

/* Exit statuses of the launcher's own (see the top comment). */
enum { EXIT_USAGE = 2, EXIT_FAILED = 125, EXIT_CANNOT_RUN = 126, EXIT_NOT_FOUND = 127 };

struct options {
	char dir[PATH_MAX];	/* -d, made absolute; "" when not given */
	const char *names;	/* --names */
	const char *lock_timeout; /* --lock-timeout */
	const char *sysv;	/* --sysv */
	bool debug;		/* --debug */
	bool print_lib;		/* --print-lib */
};

static void usage(void)
{
	fputs("Usage: shmshim [OPTION]... [--] COMMAND [ARG]...\n"
	      "       shmshim --print-lib\n"
	      "Run COMMAND with libshmshim preloaded: its POSIX shared memory objects and\n"
	      "named semaphores become files in a directory (default /tmp) instead of\n"
	      "/dev/shm.\n"
	      "\n"
	      "  -d, --dir=DIR          keep the objects in DIR, which must exist\n"
	      "                         (sets SHMSHIM_DIR)\n"
	      "      --debug            trace every call on stderr (sets SHMSHIM_DEBUG=1)\n"
	      "      --names=RULES      glibc or strict name rules (sets SHMSHIM_NAMES)\n"
	      "      --lock-timeout=MS  give up on a busy lock after MS milliseconds\n"
	      "                         (sets SHMSHIM_LOCK_TIMEOUT_MS)\n"
	      "      --sysv=WHERE       System V shared memory in files, native (the\n"
	      "                         kernel's) or auto: files where the kernel refuses\n"
	      "                         it (sets SHMSHIM_SYSV)\n"
	      "      --print-lib        print the library's path and exit\n"
	      "  -h, --help             print this help and exit\n"
	      "  -V, --version          print the version and exit\n"
	      "\n"
	      "Options end at the first argument that is not one: COMMAND's own options\n"
	      "are passed to it. A statically linked COMMAND, or one of another machine\n"
	      "or word size than the library, is run with a warning: the library cannot\n"
	      "be loaded into it.\n"
	      "\n"
	      "Exit status: that of COMMAND; 125 when shmshim itself fails (no library,\n"
	      "a library path LD_PRELOAD cannot carry, no such directory), 126 when\n"
	      "COMMAND is found but cannot be run, 127 when it is not found, 2 for a\n"
	      "usage error. See shmshim(1) and shmshim(7).\n",
	      stdout);
}

/*
 * Writes "shmshim: ", the strings of parts (up to a NULL) and a newline to
 * stderr in one write, so that lines of concurrent processes do not mix.
 * A line too long for the buffer is cut short.
 */
static void say(const char *const *parts)
{
	char line[2 * PATH_MAX + 512];
	size_t n = strlen(strcpy(line, "shmshim: "));

	for (; *parts != NULL && n < sizeof line - 2; parts++) {
		size_t len = strnlen(*parts, sizeof line - 2 - n);

		memcpy(line + n, *parts, len);
		n += len;
	}
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0)
		return; /* nowhere to say it */
}

/* say(parts), then exit with status. */
static _Noreturn void fail(int status, const char *const *parts)
{
	say(parts);
	exit(status);
}

/* A usage error: say(parts), a hint, exit 2. */
static _Noreturn void usage_error(const char *const *parts)
{
	say(parts);
	fputs("Try 'shmshim --help'.\n", stderr);
	exit(EXIT_USAGE);
}

/* The messages are lists of strings (no format to get wrong). */
#define SAY(...) say((const char *const[]){ __VA_ARGS__, NULL })
#define FAIL(status, ...) fail(status, (const char *const[]){ __VA_ARGS__, NULL })
#define USAGE_ERROR(...) usage_error((const char *const[]){ __VA_ARGS__, NULL })

/* The directory part of path, in place ("/x" gives "/"). */
static void strip_last_component(char *path)
{
	char *slash = strrchr(path, '/');

	if (slash == path)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
}

/* Whether snprintf's result n into a buffer of size bytes is complete. */
static bool fits(size_t size, int n)
{
	return n >= 0 && (size_t)n < size;
}

/* A regular file that this process may execute. */
static bool executable_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/*
 * The file execvp would run for cmd, into out: cmd itself when it has a
 * slash, else the first executable regular file in PATH (the C library's
 * default when PATH is unset; an empty entry is the current directory).
 * Returns 0, or -1 when there is none.
 */
static int find_command(const char *cmd, char *out, size_t size)
{
	char fallback[256];
	const char *p = getenv("PATH");

	if (*cmd == '\0')
		return -1;
	if (strchr(cmd, '/') != NULL)
		return fits(size, snprintf(out, size, "%s", cmd)) ? 0 : -1;
	if (p == NULL) {
		size_t n = confstr(_CS_PATH, fallback, sizeof fallback);

		if (n == 0 || n > sizeof fallback)
			return -1;
		p = fallback;
	}
	for (;;) {
		size_t len = strcspn(p, ":");

		/* len < size, so (int)len is exact */
		if (len < size && fits(size, snprintf(out, size, "%.*s%s%s", (int)len, p,
							   len > 0 ? "/" : "", cmd)) &&
		    executable_file(out))
			return 0;
		if (p[len] == '\0')
			return -1;
		p += len + 1;
	}
}

/*
 * The directory holding this program's file, into out (PATH_MAX bytes):
 * that of /proc/self/exe, else of argv0 (see the top comment). Returns 0
 * or -1.
 */
static int own_directory(const char *argv0, char *out)
{
	char found[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", out, PATH_MAX);

	if (n > 0 && n < PATH_MAX)
		out[n] = '\0';
	else if (find_command(argv0, found, sizeof found) < 0 || realpath(found, out) == NULL)
		return -1;
	strip_last_component(out);
	return 0;
}

/*
 * When dir holds the library: its canonical directory and LIB_NAME, into
 * out (of PATH_MAX bytes), and 0; else -1.
 */
static int library_in(const char *dir, char *out)
{
	char real[PATH_MAX];
	struct stat st;

	if (realpath(dir, real) == NULL)
		return -1;
	if (!fits(PATH_MAX, snprintf(out, PATH_MAX, "%s/%s",
					  strcmp(real, "/") == 0 ? "" : real, LIB_NAME)))
		return -1;
	return stat(out, &st) == 0 && S_ISREG(st.st_mode) ? 0 : -1;
}

/*
 * The library the command is to get, into lib (PATH_MAX bytes): beside
 * this program's file, else in SHMSHIM_LIBDIR. Exits 125 when there is
 * none, or when its path cannot be put in LD_PRELOAD.
 */
static void find_library(const char *argv0, char *lib)
{
	char own[PATH_MAX], near[PATH_MAX];
	bool have_own = own_directory(argv0, own) == 0 &&
			fits(sizeof near, strcmp(SHMSHIM_LIBREL, ".") == 0
				? snprintf(near, sizeof near, "%s", own)
				: snprintf(near, sizeof near, "%s/%s", own, SHMSHIM_LIBREL));

	if (!(have_own && library_in(near, lib) == 0) && library_in(SHMSHIM_LIBDIR, lib) < 0)
		FAIL(EXIT_FAILED, "cannot find ", LIB_NAME, " (looked in ", have_own ? near : "",
		     have_own ? " and " : "", SHMSHIM_LIBDIR, "); run 'make' or 'make install'");
	if (strpbrk(lib, NOT_IN_PRELOAD_PATH) != NULL)
		FAIL(EXIT_FAILED, "cannot preload ", lib, ": the loader splits LD_PRELOAD at "
		     "spaces, colons and other white space, and this path has one; put the "
		     "library in a directory whose path has none");
}

/* -d DIR: DIR must be a directory; out gets it made absolute. */
static void take_dir(const char *dir, char *out)
{
	struct stat st;

	if (stat(dir, &st) < 0) {
		if (errno == ENOENT)
			FAIL(EXIT_FAILED, dir, ": no such directory (the shim does not create it)");
		FAIL(EXIT_FAILED, dir, ": ", strerror(errno));
	}
	if (!S_ISDIR(st.st_mode))
		FAIL(EXIT_FAILED, dir, ": not a directory");
	if (realpath(dir, out) == NULL)
		FAIL(EXIT_FAILED, dir, ": ", strerror(errno));
}

static bool all_digits(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The name of the long option whose value is val, for messages. */
static const char *long_name(const struct option *longs, int val)
{
	for (; longs->name != NULL; longs++)
		if (longs->val == val)
			return longs->name;
	return "?";
}

/*
 * What getopt_long refused (c is ':' for a missing value, else '?'), with
 * the option as it was written, argv[optind - 1].
 */
static _Noreturn void bad_option(int c, const struct option *longs, char **argv)
{
	const char *arg = argv[optind - 1];
	const char short_opt[] = { '-', (char)optopt, '\0' };

	if (c == ':')
		USAGE_ERROR(arg, " needs ",
			    optopt == 'd' ? "a directory" :
			    strcmp(long_name(longs, optopt), "names") == 0 ? "glibc or strict" :
			    strcmp(long_name(longs, optopt), "sysv") == 0 ? "files, native or auto" :
			    "milliseconds");
	if (optopt >= 256)
		USAGE_ERROR("--", long_name(longs, optopt), " takes no value");
	if (optopt != 0)
		USAGE_ERROR("unknown option '", short_opt, "'");
	USAGE_ERROR("unknown or ambiguous option '", arg, "'");
}

/*
 * Options into o, stopping at the first argument that is not one. -h, -V
 * and --print-lib act at once, whatever follows. Returns the index of the
 * command.
 */
static int parse_options(int argc, char **argv, struct options *o)
{
	enum { OPT_DEBUG = 256, OPT_NAMES, OPT_LOCK_TIMEOUT, OPT_SYSV, OPT_PRINT_LIB };
	static const struct option longs[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "names", required_argument, NULL, OPT_NAMES },
		{ "lock-timeout", required_argument, NULL, OPT_LOCK_TIMEOUT },
		{ "sysv", required_argument, NULL, OPT_SYSV },
		{ "print-lib", no_argument, NULL, OPT_PRINT_LIB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof *o);
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:d:hV", longs, NULL)) != -1) {
		switch (c) {
		case 'd': take_dir(optarg, o->dir); break;
		case OPT_DEBUG: o->debug = true; break;
		case OPT_NAMES:
			if (strcmp(optarg, "glibc") != 0 && strcmp(optarg, "strict") != 0)
				USAGE_ERROR("--names: '", optarg, "' is neither glibc nor strict");
			o->names = optarg;
			break;
		case OPT_SYSV:
			if (strcmp(optarg, "files") != 0 && strcmp(optarg, "native") != 0 &&
			    strcmp(optarg, "auto") != 0)
				USAGE_ERROR("--sysv: '", optarg, "' is not files, native or auto");
			o->sysv = optarg;
			break;
		case OPT_LOCK_TIMEOUT:
			if (!all_digits(optarg))
				USAGE_ERROR("--lock-timeout: '", optarg,
					    "' is not a number of milliseconds");
			o->lock_timeout = optarg;
			break;
		case OPT_PRINT_LIB: o->print_lib = true; return argc;
		case 'h': usage(); exit(0);
		case 'V': puts("shmshim " SHMSHIM_VERSION); exit(0);
		default: bad_option(c, longs, argv);
		}
	}
	return optind;
}

static _Noreturn void out_of_memory(void)
{
	SAY(strerror(ENOMEM));
	exit(EXIT_FAILED);
}

/*
 * LD_PRELOAD's new value: lib first, then every entry of old (split as the
 * loader splits it) but lib itself, so that it is there once. Exits 125
 * when out of memory.
 */
static char *preload_value(const char *lib, const char *old)
{
	size_t lib_len = strlen(lib);
	char *v = malloc(lib_len + 1 + (old ? strlen(old) : 0) + 1);
	char *end;

	if (v == NULL)
		out_of_memory();
	memcpy(v, lib, lib_len + 1);
	end = v + lib_len;
	while (old != NULL && *old != '\0') {
		size_t len = strcspn(old, PRELOAD_SEPARATORS);

		if (len > 0 && !(len == lib_len && memcmp(old, lib, len) == 0)) {
			*end++ = ' ';
			memcpy(end, old, len);
			end += len;
			*end = '\0';
		}
		old += len + (old[len] != '\0');
	}
	return v;
}

static void set(const char *name, const char *value)
{
	if (setenv(name, value, 1) < 0)
		FAIL(EXIT_FAILED, "cannot set ", name, ": ", strerror(errno));
}

/* The environment the command gets. */
static void set_environment(const struct options *o, const char *lib)
{
	char *preload = preload_value(lib, getenv("LD_PRELOAD"));

	set("LD_PRELOAD", preload);
	free(preload);
	if (*o->dir)
		set("SHMSHIM_DIR", o->dir);
	if (o->debug)
		set("SHMSHIM_DEBUG", "1");
	if (o->names)
		set("SHMSHIM_NAMES", o->names);
	if (o->lock_timeout)
		set("SHMSHIM_LOCK_TIMEOUT_MS", o->lock_timeout);
	if (o->sysv)
		set("SHMSHIM_SYSV", o->sysv);
}

/* What an ELF header says, as far as the launcher cares. */
struct elf_id {
	int class;		/* ELFCLASS32, ELFCLASS64; ELFCLASSNONE: not ELF */
	int data;		/* ELFDATA2LSB, ELFDATA2MSB */
	unsigned machine;	/* EM_* */
	int interp;		/* has PT_INTERP: 1, 0, or -1 when unknown */
};

#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define HOST_DATA ELFDATA2LSB
#else
#define HOST_DATA ELFDATA2MSB
#endif

/* The program header table's place, from either class's file header. */
struct ph_table {
	uint64_t off;
	unsigned entsize, num, type;
};

static int ph_table_of(const unsigned char *h, size_t n, int class, struct ph_table *t)
{
	if (class == ELFCLASS64 && n >= sizeof(Elf64_Ehdr)) {
		Elf64_Ehdr e;

		memcpy(&e, h, sizeof e);
		*t = (struct ph_table){ e.e_phoff, e.e_phentsize, e.e_phnum, e.e_type };
		return 0;
	}
	if (class == ELFCLASS32 && n >= sizeof(Elf32_Ehdr)) {
		Elf32_Ehdr e;

		memcpy(&e, h, sizeof e);
		*t = (struct ph_table){ e.e_phoff, e.e_phentsize, e.e_phnum, e.e_type };
		return 0;
	}
	return -1;
}

/*
 * Whether the program headers of fd, in the host's byte order, have a
 * PT_INTERP: 1, 0, or -1 when that cannot be told (an extended count, a
 * short file, headers out of range, not an executable).
 */
static int has_interp(int fd, const struct ph_table *t)
{
	unsigned char buf[4096];
	unsigned i = 0;

	if ((t->type != ET_EXEC && t->type != ET_DYN) || t->num == PN_XNUM ||
	    t->entsize < sizeof(Elf32_Phdr) || t->entsize > sizeof buf ||
	    t->off > (uint64_t)INT64_MAX - (uint64_t)t->num * t->entsize)
		return -1;
	while (i < t->num) {
		unsigned batch = (unsigned)(sizeof buf / t->entsize);
		ssize_t n;

		if (batch > t->num - i)
			batch = t->num - i;
		n = pread(fd, buf, (size_t)batch * t->entsize,
			  (off_t)(t->off + (uint64_t)i * t->entsize));
		if (n < 0 || (size_t)n != (size_t)batch * t->entsize)
			return -1;
		for (unsigned j = 0; j < batch; j++) {
			uint32_t type; /* p_type comes first in both classes */

			memcpy(&type, buf + (size_t)j * t->entsize, sizeof type);
			if (type == PT_INTERP)
				return 1;
		}
		i += batch;
	}
	return 0;
}

/*
 * The ELF identity of the regular file at path into id (class
 * ELFCLASSNONE when it is no ELF file, or a malformed one). Returns 0, or -1 when it cannot
 * be read. Opened without blocking and checked to be a regular file, so
 * that a FIFO or device met by mistake is harmless.
 */
static int elf_of(const char *path, struct elf_id *id)
{
	unsigned char h[sizeof(Elf64_Ehdr)];
	struct ph_table t;
	struct stat st;
	ssize_t n;
	int fd;

	memset(id, 0, sizeof *id);
	id->interp = -1;
	fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (n = pread(fd, h, sizeof h, 0)) < 0) {
		close(fd);
		return -1;
	}
	/* ELF of a class and byte order that exist, read up to e_machine */
	if (n >= 20 && memcmp(h, ELFMAG, SELFMAG) == 0 &&
	    (h[EI_CLASS] == ELFCLASS32 || h[EI_CLASS] == ELFCLASS64) &&
	    (h[EI_DATA] == ELFDATA2LSB || h[EI_DATA] == ELFDATA2MSB)) {
		id->class = h[EI_CLASS];
		id->data = h[EI_DATA];
		id->machine = id->data == ELFDATA2MSB ? (unsigned)h[18] << 8 | h[19]
						       : (unsigned)h[19] << 8 | h[18];
		if (id->data == HOST_DATA && ph_table_of(h, (size_t)n, id->class, &t) == 0)
			id->interp = has_interp(fd, &t);
	}
	close(fd);
	return 0;
}

static const char *machine_name(unsigned machine)
{
	switch (machine) {
	case EM_386: return "i386";
	case EM_X86_64: return "x86-64";
	case EM_ARM: return "arm";
	case EM_AARCH64: return "aarch64";
	case EM_RISCV: return "riscv";
	case EM_PPC: return "powerpc";
	case EM_PPC64: return "ppc64";
	case EM_S390: return "s390";
	case EM_MIPS: return "mips";
	default: return "unknown-machine";
	}
}

/* "32-bit i386" and the like, into buf. */
static const char *describe(const struct elf_id *id, char *buf, size_t size)
{
	snprintf(buf, size, "%s%s %s", id->class == ELFCLASS32 ? "32-bit" : "64-bit",
		 id->data == HOST_DATA ? "" : " byte-swapped", machine_name(id->machine));
	return buf;
}

static bool same_abi(const struct elf_id *a, const struct elf_id *b)
{
	return a->class == b->class && a->data == b->data && a->machine == b->machine;
}

static void warn_other_abi(const char *path, const struct elf_id *prog, const struct elf_id *lib)
{
	char have[64], want[64];

	SAY("warning: ", path, " is a ", describe(prog, have, sizeof have),
	    " program and the library is ", describe(lib, want, sizeof want),
	    ": its shared memory calls will not go through the shim");
}

/*
 * A warning on stderr when the command is a program the library cannot be
 * loaded into; nothing when it is fine, a script, or cannot be looked at.
 */
static void warn_if_unaffected(const char *cmd, const char *lib)
{
	char path[PATH_MAX];
	struct elf_id prog, ours;

	if (find_command(cmd, path, sizeof path) < 0 || elf_of(path, &prog) < 0 ||
	    prog.class == ELFCLASSNONE)
		return;
	if (elf_of(lib, &ours) == 0 && ours.class != ELFCLASSNONE && !same_abi(&prog, &ours))
		warn_other_abi(path, &prog, &ours);
	else if (prog.interp == 0)
		SAY("warning: ", path, " is statically linked: its shared memory calls will "
		    "not go through the shim");
}

/* Runs argv as execvp does; returns only to exit as a shell would. */
static _Noreturn void run(char **argv)
{
	int e;

	execvp(argv[0], argv);
	e = errno;
	if (e == ENOENT && strchr(argv[0], '/') == NULL)
		FAIL(EXIT_NOT_FOUND, argv[0], ": command not found");
	FAIL(e == ENOENT ? EXIT_NOT_FOUND : EXIT_CANNOT_RUN, argv[0], ": ", strerror(e));
}

int main(int argc, char **argv)
{
	char lib[PATH_MAX];
	struct options o;
	int first;

	if (argc < 1)
		USAGE_ERROR("no command given");
	first = parse_options(argc, argv, &o);
	if (!o.print_lib && first >= argc)
		USAGE_ERROR("no command given");
	find_library(argv[0], lib);
	if (o.print_lib) {
		puts(lib);
		return fflush(stdout) == 0 ? 0 : EXIT_FAILED;
	}
	set_environment(&o, lib);
	warn_if_unaffected(argv[first], lib);
	run(argv + first);
}
