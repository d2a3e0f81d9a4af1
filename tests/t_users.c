/*
 * t_users.c - objects shared between users in a sticky, world-writable
 * root like /tmp (needs root to switch users): permissions decide, a
 * sticky directory's EPERM becomes EACCES, files planted by another user
 * are opened as existing objects (an O_CREAT open only where
 * fs.protected_regular allows it, as the kernel would), and a
 * directory the caller cannot write gives EACCES for creation but still
 * serves plain opens.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <semaphore.h>
#include <sys/file.h>
#include <sys/mman.h>

#include "calls.h"
#include "sysctl.h"
#include "tap.h"

static char p1[PATH_MAX];

struct as_user {
	const char *user;
	const char *name;
	int oflag;      /* -1: shm_unlink */
	int want_errno; /* 0: must work */
};

static int call_in_child(void *arg)
{
	const struct as_user *a = arg;
	int r;

	become(a->user);
	errno = 0;
	r = a->oflag < 0 ? shm_unlink(a->name) : shm_open(a->name, a->oflag, 0666);
	if (a->want_errno == 0)
		return r >= 0 ? 0 : 1;
	return r == -1 && errno == a->want_errno ? 0 : 2;
}

static bool as_user(const char *user, const char *name, int oflag, int want)
{
	struct as_user a = { user, name, oflag, want };
	int st = in_child(call_in_child, &a);

	if (st != 0)
		diag("child as %s: status %d", user, st);
	return st == 0;
}

static bool holds(const char *leaf, const char *text)
{
	char buf[32] = "";
	int fd = open(in_root(p1, sizeof p1, leaf), O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && strcmp(buf, text) == 0;
}

static void test_owner_rules(void)
{
	umask(022);
	int fd = shm_open("/rootobj", O_RDWR | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "root", 4) == 4, "root creates /rootobj, mode 0600");
	close(fd);
	ok(as_user("nobody", "/rootobj", O_RDWR, EACCES),
	   "nobody opening it O_RDWR gets EACCES");
	ok(as_user("nobody", "/rootobj", -1, EACCES),
	   "nobody unlinking it in the sticky root gets EACCES, not EPERM");
	ok(holds(".SHMDrootobj", "root"), "... and it is intact");
	ok(shm_unlink("/rootobj") == 0, "root unlinks it");

	ok(as_user("nobody", "/shared", O_RDWR | O_CREAT | O_EXCL, 0),
	   "nobody creates /shared with mode 0666 (umask 022: 0644)");
	ok(as_user("daemon", "/shared", O_RDONLY, 0), "daemon opens it read-only");
	ok(as_user("daemon", "/shared", O_RDWR, EACCES),
	   "daemon opening it O_RDWR gets EACCES (mode 0644)");
	ok(as_user("daemon", "/shared", -1, EACCES), "daemon cannot unlink it");
	ok(as_user("nobody", "/shared", -1, 0), "nobody, its owner, unlinks it");

	/* One its owner can neither read nor write: unlinked under the lock file. */
	struct passwd *pw = getpwnam("nobody");
	fd = shm_open("/zero", O_RDWR | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && pw && fchown(fd, pw->pw_uid, pw->pw_gid) == 0 && fchmod(fd, 0) == 0,
	   "an object of nobody's with mode 0000");
	close(fd);
	ok(as_user("nobody", "/zero", -1, 0), "nobody, its owner, unlinks it all the same");
	root_is_empty("(and no lock file is left)");
}

/* As daemon: creates the semaphore /stale, closes and unlinks it. */
static int sem_as_daemon(void *arg)
{
	(void)arg;
	become("daemon");
	sem_t *s = sem_open("/stale", O_CREAT | O_EXCL, 0600, 1);

	return s != SEM_FAILED && sem_close(s) == 0 && sem_unlink("/stale") == 0 ? 0 : 1;
}

struct plant {
	const char *leaf;
	mode_t mode;
};

static int plant_as_nobody(void *arg)
{
	const struct plant *p = arg;
	int fd;

	become("nobody");
	umask(0);
	fd = open(in_root(p1, sizeof p1, p->leaf), O_WRONLY | O_CREAT | O_EXCL,
		  p->mode);
	return fd >= 0 && write(fd, "planted", 7) == 7 ? 0 : 1;
}

static void test_planted(void)
{
	int lock = sysctl_lock();
	int saved = sysctl_read(PROTECTED_REGULAR);

	if (saved < 0) {
		skip(27, "fs.protected_regular cannot be read");
		close(lock);
		return;
	}
	for (int level = 0; level <= 2; level++) {
		struct plant open_one = { ".SHMDplant", 0666 };
		struct plant closed_one = { ".SHMDpriv", 0600 };

		if (!sysctl_set(PROTECTED_REGULAR, level)) {
			skip(9, "cannot set fs.protected_regular");
			continue;
		}
		ok(in_child(plant_as_nobody, &open_one) == 0 &&
			   in_child(plant_as_nobody, &closed_one) == 0,
		   "protected_regular=%d: nobody plants .SHMDplant (0666) and .SHMDpriv (0600) without the shim",
		   level);
		/* In a new process: the library reads the setting when it loads. */
		int got = call_as("daemon", "shm_open", "/plant", O_RDWR | O_CREAT, NULL);
		if (level == 0)
			ok(got == 0,
			   "daemon's O_RDWR|O_CREAT opens the planted 0666 file as an existing object");
		else if (!ok(got == EACCES,
			     "daemon's O_RDWR|O_CREAT of the planted 0666 file gives EACCES, as the kernel would"))
			diag("got %d", got);
		ok(call_as("daemon", "shm_open", "/plant", O_RDWR, NULL) == 0,
		   "... and a plain O_RDWR opens it (the rule is for O_CREAT only)");
		ok(holds(".SHMDplant", "planted"), "... without truncating it");
		ok(as_user("daemon", "/priv", O_RDWR | O_CREAT, EACCES),
		   "the planted 0600 file gives daemon EACCES");
		ok(as_user("daemon", "/priv", O_RDWR | O_CREAT | O_EXCL, EEXIST),
		   "... and O_EXCL gives EEXIST");
		unlink(in_root(p1, sizeof p1, ".SHMDplant"));
		unlink(in_root(p1, sizeof p1, ".SHMDpriv"));

		/* A lock file of nobody's, left by a killed call. */
		struct plant stale = { ".SEMLstale", 0444 };
		ok(in_child(plant_as_nobody, &stale) == 0 && in_child(sem_as_daemon, NULL) == 0,
		   "... daemon creates a semaphore while nobody's stale lock file is there");
		ok(exists(in_root(p1, sizeof p1, ".SEMLstale")),
		   "... which stays: daemon cannot remove nobody's file from the sticky root");
		unlink(p1);
		root_is_empty("once the planted files are removed (no lock files were left)");
	}
	sysctl_set(PROTECTED_REGULAR, saved);
	close(lock);
}

/* Run as "t_users readonly" with SHMSHIM_DIR a root-owned 0755 directory. */
static int readonly_dir(void)
{
	umask(0);
	sem_t *s = sem_open("/psem", O_CREAT | O_EXCL, 0666, 2);
	ok(s != SEM_FAILED && sem_close(s) == 0, "root prepares a semaphore there too");
	become("nobody");
	fails_with(shm_open("/new", O_RDWR | O_CREAT, 0600), EACCES,
		   "nobody creating in a directory it cannot write gets EACCES");
	int fd0 = shm_open("/prepared", O_RDONLY | O_CREAT, 0600);
	ok(fd0 >= 0, "O_CREAT of the prepared object opens it");
	close(fd0);
	int v = -1;
	s = sem_open("/psem", O_CREAT, 0600, 0);
	ok(s != SEM_FAILED && sem_getvalue(s, &v) == 0 && v == 2,
	   "sem_open(O_CREAT) of the prepared semaphore opens it, though no lock file can be made");
	if (s != SEM_FAILED)
		sem_close(s);
	ok(sem_open("/psem", O_CREAT | O_EXCL, 0600, 0) == SEM_FAILED && errno == EEXIST,
	   "... O_CREAT|O_EXCL gives EEXIST");
	ok(sem_open("/nosem", O_CREAT, 0600, 0) == SEM_FAILED && errno == EACCES,
	   "... and a new one gives EACCES");
	fails_with(shm_open("/absent", O_RDONLY, 0), ENOENT,
		   "opening a missing object there gives ENOENT");
	int fd = shm_open("/prepared", O_RDONLY, 0);
	char buf[9] = "";
	ok(fd >= 0 && read(fd, buf, 8) == 8 && strcmp(buf, "prepared") == 0,
	   "an object root prepared there opens read-only");
	close(fd);
	fd = shm_open("/nolock", O_RDONLY, 0);
	ok(fd >= 0, "so does one without a lock file (made by another program)");
	close(fd);
	fails_with(shm_unlink("/prepared"), EACCES, "unlinking gives EACCES");
	ok(count_entries(test_root()) == 4, "nothing was added or removed");
	return tap_failures;
}

static void test_readonly_dir(void)
{
	char dir[PATH_MAX], file[PATH_MAX];
	int fd;

	snprintf(dir, sizeof dir, "%s/ro", test_root());
	mkdir(dir, 0755);
	/* /prepared with a lock file beside it (left by a killed call), /nolock without. */
	snprintf(file, sizeof file, "%s/.SHMDprepared", dir);
	fd = open(file, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, "prepared", 8) != 8)
		bail("prepare");
	close(fd);
	snprintf(file, sizeof file, "%s/.SHMLprepared", dir);
	close(open(file, O_RDONLY | O_CREAT, 0444));
	snprintf(file, sizeof file, "%s/.SHMDnolock", dir);
	close(open(file, O_WRONLY | O_CREAT, 0644));

	ok(run_self("readonly", "SHMSHIM_DIR", dir, NULL) == 0,
	   "a root-owned 0755 directory as nobody (see the sub-run above)");
	unlink(file);
	snprintf(file, sizeof file, "%s/.SHMLprepared", dir);
	unlink(file);
	snprintf(file, sizeof file, "%s/.SHMDprepared", dir);
	unlink(file);
	snprintf(file, sizeof file, "%s/.SEMDpsem", dir);
	unlink(file);
	rmdir(dir);
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_nested = argc > 1;
	if (argc > 4 && strcmp(argv[1], "call") == 0)
		return call_main(argc, argv);
	if (argc > 1 && strcmp(argv[1], "readonly") == 0)
		return readonly_dir();
	if (geteuid() != 0 || getpwnam("nobody") == NULL || getpwnam("daemon") == NULL) {
		printf("1..0 # SKIP needs root and the users nobody and daemon\n");
		return 0;
	}
	test_owner_rules();
	test_planted();
	test_readonly_dir();
	root_is_empty("at the end");
	return done_testing();
}
