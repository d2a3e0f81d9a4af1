/*
 * t_hostile.c - another user (nobody) attacks a victim (root, daemon) in
 * a sticky, world-writable root like /tmp (DESIGN.md, "A shared root is
 * hostile"). What the attacker plants may make a victim's call fail, but
 * never make it read, write, truncate, rename or delete anything but the
 * victim's own object: each case checks the call's result and that the
 * victim's data was neither read nor changed nor lost. Needs root; the
 * fs.protected_* settings are set for the cases and restored.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "calls.h"
#include "sysctl.h"
#include "tap.h"

#define LONG_LEN 251 /* one more than fits beside ".SHMD" in NAME_MAX */

static const char *const victims[] = { "root", "daemon" };
static char long_name[LONG_LEN + 2];
static char hash_dir[40]; /* ".<md5 of the long name>" */
static char p1[PATH_MAX], p2[PATH_MAX];

static uid_t uid_of(const char *user)
{
	struct passwd *pw = getpwnam(user);

	return pw ? pw->pw_uid : (uid_t)-1;
}

/* Writes text into path as a new file of user's with the given mode. */
static void plant_file(const char *path, const char *user, mode_t mode, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);

	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) ||
	    fchown(fd, uid_of(user), (gid_t)-1) < 0 || fchmod(fd, mode) < 0)
		bail(path);
	close(fd);
}

/* A directory of user's, mode 01777, as the shim (or an attacker) makes them. */
static void plant_dir(const char *path, const char *user)
{
	if (mkdir(path, 0700) < 0 || chown(path, uid_of(user), (gid_t)-1) < 0 ||
	    chmod(path, 01777) < 0)
		bail(path);
}

/* Whether the file at path holds exactly text. */
static bool holds(const char *path, const char *text)
{
	char buf[256] = "";
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)strlen(text) && memcmp(buf, text, (size_t)n) == 0;
}

static const char *rooted(char *buf, const char *leaf)
{
	return in_root(buf, PATH_MAX, leaf);
}

/* Removes what the root holds (the cases plant files of several users). */
static void empty_root(void)
{
	char cmd[PATH_MAX + 64];

	snprintf(cmd, sizeof cmd, "find '%s' -mindepth 1 -delete", test_root());
	if (system(cmd) != 0)
		bail("empty the root");
}

/* The long name's hash directory, found by making the object once. */
static void find_hash_dir(void)
{
	DIR *d;
	struct dirent *e;
	int fd;

	long_name[0] = '/';
	memset(long_name + 1, 'h', LONG_LEN);
	long_name[LONG_LEN + 1] = '\0';
	fd = shm_open(long_name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		bail("create the long name");
	close(fd);
	d = opendir(test_root());
	while (d && (e = readdir(d)) != NULL)
		if (e->d_name[0] == '.' && strlen(e->d_name) == 33)
			snprintf(hash_dir, sizeof hash_dir, "%s", e->d_name);
	if (d)
		closedir(d);
	if (shm_unlink(long_name) < 0 || hash_dir[0] == '\0')
		bail("find the hash directory");
}

/* "<hash dir>/<sub>" or "<hash dir>/<sub>/<long name>" under the root. */
static const char *in_hash(char *buf, const char *sub, bool with_name)
{
	snprintf(buf, PATH_MAX, "%s/%s%s%s%s", test_root(), hash_dir, *sub ? "/" : "", sub,
		 with_name ? "/" : "");
	if (with_name)
		strncat(buf, long_name + 1, PATH_MAX - strlen(buf) - 1);
	return buf;
}

static bool result(int got, int want, const char *fmt, const char *victim)
{
	char desc[256];

	snprintf(desc, sizeof desc, fmt, victim);
	if (!ok(got == want, "%s", desc))
		diag("got %d (%s), want %d (%s)", got, got < 99 ? err_name(got) : "?",
		     want, err_name(want) ? err_name(want) : "0");
	return got == want;
}

/*
 * 1. Long-name directories of another user. Whoever owns a directory can
 * rename and delete every entry in it, so the victim never creates in
 * one, and uses nothing there but an object of that same user's.
 */
static void test_long_name_dirs(const char *victim)
{
	/* The attacker makes the hash directory before the victim's first call. */
	plant_dir(in_hash(p1, "", false), "nobody");
	result(call_as(victim, "shm_open", long_name, O_RDWR | O_CREAT | O_EXCL, "victim secret"),
	       EACCES, "%s: shm_open(O_CREAT) of a long name whose hash directory is nobody's "
	       "gives EACCES", victim);
	result(call_as(victim, "sem_open", long_name, O_CREAT, NULL), EACCES,
	       "%s: ... and so does sem_open(O_CREAT)", victim);
	ok(count_entries(in_hash(p1, "", false)) == 0,
	   "... and nothing of the victim's is in nobody's directory");
	empty_root();

	/* An object of the victim's there (made before this rule, say). */
	plant_dir(in_hash(p1, "", false), "nobody");
	plant_dir(in_hash(p1, ".SHMD", false), "nobody");
	plant_file(in_hash(p2, ".SHMD", true), victim, 0600, "victim data");
	result(call_as(victim, "shm_open", long_name, O_RDWR, "overwritten"), EACCES,
	       "%s: the victim's own object in nobody's directory is not opened (EACCES)", victim);
	result(call_as(victim, "shm_unlink", long_name, 0, NULL), EACCES,
	       "%s: ... nor unlinked there", victim);
	ok(holds(p2, "victim data"), "... and it is unchanged");
	empty_root();

	/* nobody's own object in nobody's directories: theirs to share. */
	plant_dir(in_hash(p1, "", false), "nobody");
	plant_dir(in_hash(p1, ".SHMD", false), "nobody");
	plant_file(in_hash(p2, ".SHMD", true), "nobody", 0666, "nobody's data");
	result(call_as(victim, "shm_read", long_name, 0, "nobody's data"), 0,
	       "%s: an object of nobody's in nobody's directories opens (theirs to share)", victim);
	empty_root();

	/* A subdirectory of nobody's inside the victim's hash directory. */
	result(call_as(victim, "shm_open", long_name, O_RDWR | O_CREAT | O_EXCL, "victim data"), 0,
	       "%s: creates a long-name object (its own hash directory)", victim);
	plant_dir(in_hash(p1, ".SEMD", false), "nobody");
	result(call_as(victim, "sem_open", long_name, O_CREAT, NULL), EACCES,
	       "%s: sem_open(O_CREAT) when nobody made .SEMD in the victim's hash directory "
	       "gives EACCES", victim);
	ok(count_entries(p1) == 0, "... and puts nothing in nobody's .SEMD");
	plant_dir(in_hash(p1, ".SHML", false), "nobody");
	result(call_as("nobody", "shm_unlink", long_name, 0, NULL), EACCES,
	       "%s: nobody cannot unlink the victim's object through its own .SHML", victim);
	ok(holds(in_hash(p2, ".SHMD", true), "victim data"), "... which is intact");
	result(call_as(victim, "shm_unlink", long_name, 0, NULL), 0,
	       "%s: the victim unlinks it", victim);
	empty_root();
}

/* A file of the victim's outside the root, on the root's file system. */
static char secret_dir[PATH_MAX], secret[PATH_MAX];

static void make_secret(const char *victim)
{
	snprintf(secret_dir, sizeof secret_dir, "%s.secret", test_root());
	if (mkdir(secret_dir, 0755) < 0 && errno != EEXIST)
		bail("secret directory");
	snprintf(secret, sizeof secret, "%s/secret", secret_dir);
	unlink(secret);
	plant_file(secret, victim, 0600, "SECRET CONTENT of the victim, 64 bytes long, padded ........");
}

static bool secret_intact(void)
{
	return holds(secret, "SECRET CONTENT of the victim, 64 bytes long, padded ........");
}

/* As nobody: hard-links path to root/leaf. Returns 0 or errno. */
static int link_as_nobody(const char *path, const char *leaf)
{
	pid_t pid = fork();

	if (pid == 0) {
		become("nobody");
		_exit(link(path, rooted(p2, leaf)) == 0 ? 0 : errno);
	}
	return wait_status(pid);
}

/* Runs shmclean over the root with the given options; its exit status. */
static int shmclean(const char *a, const char *b, const char *c)
{
	char tool[PATH_MAX];
	pid_t pid;

	snprintf(tool, sizeof tool, "%s", self_path);
	*strrchr(tool, '/') = '\0';
	strncat(tool, "/../shmclean", sizeof tool - strlen(tool) - 1);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		unsetenv("LD_PRELOAD");
		if (freopen("/dev/null", "w", stdout) == NULL)
			_exit(126);
		execl(tool, tool, "-d", test_root(), a, b, c, (char *)NULL);
		_exit(127);
	}
	return wait_status(pid);
}

static void hard_link_calls(const char *victim)
{
	result(call_as(victim, "shm_open", "/hl", O_RDWR | O_CREAT | O_TRUNC, "overwrite"), EINVAL,
	       "%s: shm_open(O_RDWR|O_CREAT|O_TRUNC) of a hard link gives EINVAL", victim);
	result(call_as(victim, "shm_open", "/hl", O_RDWR, "overwrite"), EINVAL,
	       "%s: ... and so does shm_open(O_RDWR)", victim);
	result(call_as(victim, "shm_read", "/hl", 0, "SECRET"), EINVAL,
	       "%s: ... and shm_open(O_RDONLY): nothing is read through it", victim);
	result(call_as(victim, "sem_open", "/hl", 0, "post"), EINVAL,
	       "%s: sem_open of a hard link gives EINVAL (no sem_post into it)", victim);
	result(call_as(victim, "sem_open", "/hl", O_CREAT, "post"), EINVAL,
	       "%s: ... with O_CREAT too", victim);
	result(call_as(victim, "shm_unlink", "/hl", 0, NULL), EINVAL,
	       "%s: shm_unlink of a hard link gives EINVAL", victim);
	result(call_as(victim, "sem_unlink", "/hl", 0, NULL), EINVAL,
	       "%s: ... and so does sem_unlink", victim);
}

/* 2. Hard links to a file elsewhere are never used. */
static void test_hard_links(const char *victim)
{
	int lock = sysctl_lock(), saved = sysctl_read(PROTECTED_HARDLINKS);
	const int per_level = 13;

	if (saved < 0) {
		skip(2 * per_level, "fs.protected_hardlinks cannot be read");
		close(lock);
		return;
	}
	for (int level = 0; level <= 1; level++) {
		if (!sysctl_set(PROTECTED_HARDLINKS, level)) {
			skip(per_level, "cannot set fs.protected_hardlinks");
			continue;
		}
		make_secret(victim);
		int a = link_as_nobody(secret, ".SHMDhl"), b = link_as_nobody(secret, ".SEMDhl");

		if (level == 0) {
			ok(a == 0 && b == 0, "protected_hardlinks=0: nobody hard-links %s's 0600 file "
			   "to .SHMDhl and .SEMDhl", victim);
		} else {
			ok(a == EPERM && b == EPERM, "protected_hardlinks=1: the kernel refuses nobody "
			   "the links; nobody links a file of its own twice instead");
			plant_file(rooted(p1, ".SHMDhl"), "nobody", 0666, "nobody's");
			if (link(p1, rooted(p2, ".SEMDhl")) < 0)
				bail("link");
		}
		hard_link_calls(victim);
		ok(level ? holds(rooted(p1, ".SHMDhl"), "nobody's") : secret_intact(),
		   "... the linked file is unchanged");
		ok(exists(rooted(p1, ".SHMDhl")) && exists(rooted(p2, ".SEMDhl")),
		   "... and both links are still there");
		ok(shmclean("--older-than", "0", "--force") == 0 && exists(p1) && exists(p2) &&
			   (level || secret_intact()),
		   "shmclean --older-than 0 --force keeps them, and the file is unchanged");
		empty_root();
		unlink(secret);
		rmdir(secret_dir);
	}
	sysctl_set(PROTECTED_HARDLINKS, saved);
	close(lock);
}

/*
 * 3. fs.protected_regular: an O_CREAT open of a file another user planted
 * in a sticky directory fails where the kernel's own open would.
 */
static int kernel_answer(const char *user, const char *path)
{
	pid_t pid = fork();

	if (pid == 0) {
		become(user);
		_exit(open(path, O_RDWR | O_CREAT, 0600) >= 0 ? 0 : errno);
	}
	return wait_status(pid);
}

/* refused: the kernel must say EACCES here (a check of the check). */
static void protected_case(const char *victim, int level, const char *where, bool refused)
{
	const char *root = getenv("SHMSHIM_DIR");
	char plant[PATH_MAX];
	int kernel, got;

	snprintf(plant, sizeof plant, "%s/.SHMDpr", root);
	plant_file(plant, "nobody", 0666, "planted");
	kernel = kernel_answer(victim, plant);
	got = call_as(victim, "shm_open", "/pr", O_RDWR | O_CREAT, "victim secret");
	if (!ok(got == kernel && (kernel == EACCES) == refused,
		"protected_regular=%d, %s: %s's shm_open(O_RDWR|O_CREAT) of nobody's file "
		"answers as the kernel's open(O_CREAT) does (%s)",
		level, where, victim, kernel ? err_name(kernel) : "opens"))
		diag("shim %d, kernel %d", got, kernel);
	ok(holds(plant, got ? "planted" : "victim secret"),
	   "... and nothing of the victim's is in nobody's file unless it was opened");
	unlink(plant);
}

static void test_protected_regular(void)
{
	int lock = sysctl_lock(), saved = sysctl_read(PROTECTED_REGULAR);
	const char *root = test_root();
	char group_dir[PATH_MAX];

	if (saved < 0) {
		skip(30, "fs.protected_regular cannot be read");
		close(lock);
		return;
	}
	/* A sticky directory writable by its group (nobody's), not by others. */
	snprintf(group_dir, sizeof group_dir, "%s/g", root);
	if (mkdir(group_dir, 0700) < 0 || chown(group_dir, 0, 65534) < 0 ||
	    chmod(group_dir, 01770) < 0)
		bail("group directory");
	for (int level = 0; level <= 2; level++) {
		if (!sysctl_set(PROTECTED_REGULAR, level)) {
			skip(10, "cannot set fs.protected_regular");
			continue;
		}
		for (size_t v = 0; v < 2; v++)
			protected_case(victims[v], level, "world-writable root", level >= 1);
		setenv("SHMSHIM_DIR", group_dir, 1);
		protected_case("root", level, "group-writable root", level >= 2);
		setenv("SHMSHIM_DIR", root, 1);
		/* glibc's sem_open opens an existing semaphore without O_CREAT. */
		result(call_as("nobody", "sem_open", "/ps", O_CREAT, NULL), 0,
		       "%s makes a semaphore", "nobody");
		result(call_as("root", "sem_open", "/ps", O_CREAT, "post"), 0,
		       "%s's sem_open(O_CREAT) of it opens it, as glibc's would at any level", "root");
		unlink(rooted(p1, ".SEMDps"));
	}
	rmdir(group_dir);
	sysctl_set(PROTECTED_REGULAR, saved);
	close(lock);
}

/*
 * 5. A new hash directory is never seen with another mode than 01777,
 * whatever the creator's umask: a watcher looks while daemon (umask 077)
 * makes and removes a long-name object again and again.
 */
static atomic_bool watching;
static atomic_int narrow_seen, looks;

static void *watch_modes(void *arg)
{
	(void)arg;
	while (atomic_load(&watching)) {
		struct stat st;

		if (lstat(in_hash(p1, "", false), &st) == 0) {
			atomic_fetch_add(&looks, 1);
			if ((st.st_mode & 07777) != 01777)
				atomic_fetch_add(&narrow_seen, 1);
		}
		if (lstat(in_hash(p2, ".SHMD", false), &st) == 0) {
			atomic_fetch_add(&looks, 1);
			if ((st.st_mode & 07777) != 01777)
				atomic_fetch_add(&narrow_seen, 1);
		}
	}
	return NULL;
}

static int churn_as_daemon(void *arg)
{
	int rounds = *(int *)arg;

	become("daemon");
	umask(077);
	for (int i = 0; i < rounds; i++) {
		int fd = shm_open(long_name, O_RDWR | O_CREAT | O_EXCL, 0666);

		if (fd < 0 || close(fd) < 0 || shm_unlink(long_name) < 0)
			return 1;
	}
	return 0;
}

static void test_dir_modes(void)
{
	int rounds = quick() ? 100 : 1500;
	pthread_t t;

	atomic_store(&watching, true);
	pthread_create(&t, NULL, watch_modes, NULL);
	int st = in_child(churn_as_daemon, &rounds);
	atomic_store(&watching, false);
	pthread_join(t, NULL);
	ok(st == 0, "daemon (umask 077) makes and removes a long-name object %d times", rounds);
	if (!ok(narrow_seen == 0 && looks > 0,
		"... and its directories were never seen with a mode other than 01777 "
		"(%d of %d looks)", narrow_seen, looks))
		list_entries(test_root());
	root_is_empty("after the churn");
}

/*
 * 6. A file or directory of nobody's at a semaphore's temporary name
 * (<root>/.SEMT<name>, used only where no nameless file can be made).
 */
static void test_temp_name(const char *victim)
{
	const bool locks = sem_create_locks();
	const int want = locks ? EACCES : 0;
	const char *how = locks ? "without /proc: EACCES (the name is blocked)"
				: "with /proc: created all the same (no temporary name)";

	plant_file(rooted(p1, ".SEMTst"), "nobody", 0600, "nobody's");
	result(call_as(victim, "sem_open", "/st", O_CREAT, NULL), want,
	       "%s: sem_open(O_CREAT) beside nobody's file at .SEMTst", victim);
	diag("%s", how);
	ok(holds(p1, "nobody's"), "... which is untouched");
	empty_root();
	plant_dir(rooted(p1, ".SEMTsd"), "nobody");
	result(call_as(victim, "sem_open", "/sd", O_CREAT, NULL), want,
	       "%s: ... and beside nobody's directory at .SEMTsd", victim);
	empty_root();

	/* The long name's temporary file sits in its hash directory. */
	result(call_as(victim, "shm_open", long_name, O_RDWR | O_CREAT, NULL), 0,
	       "%s: makes a long name's hash directory", victim);
	plant_file(in_hash(p1, ".SEMT", false), "nobody", 0600, "nobody's");
	result(call_as(victim, "sem_open", long_name, O_CREAT, NULL), want,
	       "%s: sem_open(O_CREAT) of the long name beside nobody's .SEMT", victim);
	ok(holds(p1, "nobody's"), "... which is untouched");
	empty_root();
}

/*
 * A second link at the temporary name. A semaphore creator without
 * O_TMPFILE, killed between linking its file in and removing the
 * temporary name, leaves both: the semaphore is whole and must be used,
 * at once, not waited for until the time-out. For shared memory there is
 * no temporary file, so nobody linking a file of theirs there must get an
 * immediate EINVAL, not a wait.
 */
static void test_second_link(void)
{
	for (int round = 0; round < 2; round++) {
		sem_t *s = sem_open("/pair", O_CREAT | O_EXCL, 0600, 4);

		if (s == SEM_FAILED || sem_close(s) < 0 ||
		    link(rooted(p1, ".SEMDpair"), rooted(p2, ".SEMTpair")) < 0)
			bail("a semaphore and its temporary name");
		if (round == 0) {
			result(call_as("root", "sem_open", "/pair", 0, "post"), 0,
			       "%s: a semaphore with a second link at its temporary name opens, "
			       "without waiting", "root");
			result(call_as("root", "sem_unlink", "/pair", 0, NULL), 0,
			       "%s: ... and unlinks, leaving the temporary name", "root");
		}
		ok(shmclean("-q", "--older-than", "0") == 0 && !exists(p1) && !exists(p2),
		   round ? "shmclean takes the pair for an orphan and its stale temporary name, "
			   "not for a hard link, and removes both"
			 : "shmclean removes the stale temporary name");
	}

	plant_file(rooted(p1, ".SHMDsh"), "nobody", 0666, "nobody's");
	if (link(p1, rooted(p2, ".SHMTsh")) < 0)
		bail("link");
	result(call_as("root", "shm_open", "/sh", O_RDWR, "written"), EINVAL,
	       "%s: nobody's object with a second link at .SHMT gives EINVAL at once", "root");
	result(call_as("root", "shm_unlink", "/sh", 0, NULL), EINVAL,
	       "%s: ... and so does shm_unlink", "root");
	ok(holds(p1, "nobody's"), "... and it is unchanged");
	empty_root();
}

/*
 * Symbolic links planted where a long name's directories go are never
 * followed: not at the hash directory, nor at any of its subdirectories,
 * for shared memory or semaphores, by open, create or unlink.
 */
static void test_links_on_the_way(void)
{
	static const char *const subs[] = { "", ".SHMD", ".SHML", ".SEMD", ".SEML" };
	/* How many of the six calls below work: those that do not go there. */
	const int work[] = { 0, 3, 6, 3, sem_create_locks() ? 3 : 6 };
	char outside[PATH_MAX], bait[PATH_MAX];

	snprintf(outside, sizeof outside, "%s.outside", test_root());
	for (size_t i = 0; i < sizeof subs / sizeof subs[0]; i++) {
		int calls = 0, fd;

		/* The link's target holds what the shim would look for there. */
		if (mkdir(outside, 0777) < 0)
			bail("outside");
		snprintf(bait, sizeof bait, "%s/%s", outside, long_name + 1);
		plant_file(bait, "root", 0666, "bait");
		if (*subs[i])
			plant_dir(in_hash(p1, "", false), "root");
		if (symlink(outside, in_hash(p1, subs[i], false)) < 0)
			bail("symlink");
		calls += call_as("root", "shm_open", long_name, O_RDWR | O_CREAT, "written") == 0;
		calls += call_as("root", "shm_open", long_name, O_RDWR, "written") == 0;
		calls += call_as("root", "shm_unlink", long_name, 0, NULL) == 0;
		calls += call_as("root", "sem_open", long_name, O_CREAT, "post") == 0;
		calls += call_as("root", "sem_open", long_name, 0, "post") == 0;
		calls += call_as("root", "sem_unlink", long_name, 0, NULL) == 0;
		fd = count_entries(outside);
		if (!ok(holds(bait, "bait") && fd == 1 && calls == work[i],
			"a symbolic link at %s%s%s: nothing followed it (%d of 6 calls worked, "
			"want %d: those that do not go there; the target holds %d entries)",
			hash_dir, *subs[i] ? "/" : "", subs[i], calls, work[i], fd))
			list_entries(outside);
		unlink(bait);
		rmdir(outside);
		empty_root();
	}
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 4 && strcmp(argv[1], "call") == 0)
		return call_main(argc, argv);
	if (geteuid() != 0 || getpwnam("nobody") == NULL || getpwnam("daemon") == NULL) {
		printf("1..0 # SKIP needs root and the users nobody and daemon\n");
		return 0;
	}
	find_hash_dir();
	for (size_t v = 0; v < 2; v++) {
		test_long_name_dirs(victims[v]);
		test_hard_links(victims[v]);
		test_temp_name(victims[v]);
	}
	test_protected_regular();
	test_dir_modes();
	test_links_on_the_way();
	test_second_link();
	root_is_empty("at the end");
	return done_testing();
}
