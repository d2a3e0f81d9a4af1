/*
 * t_shm.c - shm_open and shm_unlink through the shim: files, flags, names,
 * unlink, hostile files at the data path, the glibc name rules, and the
 * debug trace. Runs in a fresh SHMSHIM_DIR (see tests/run).
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/socket.h>
#include <sys/sysmacros.h>
#include <sys/un.h>

#include "tap.h"

static char p1[PATH_MAX], p2[PATH_MAX];

static bool same_file(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && lstat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

static void test_create_and_files(void)
{
	struct stat st;
	int fd, fd2, flags;

	umask(022);
	fd = shm_open("/basic", O_RDWR | O_CREAT | O_EXCL, 0666);
	ok(fd >= 0, "create /basic");
	ok(same_file(fd, in_root(p1, sizeof p1, ".SHMDbasic")),
	   "/basic is the file <root>/.SHMDbasic");
	ok(lstat(p1, &st) == 0 && S_ISREG(st.st_mode) &&
		   (st.st_mode & 07777) == 0644 && st.st_size == 0,
	   "a new object is an empty regular file, mode 0666 & ~022 = 0644");
	flags = fcntl(fd, F_GETFD);
	ok(flags >= 0 && (flags & FD_CLOEXEC), "FD_CLOEXEC is set");
	ok((fcntl(fd, F_GETFL) & (O_ACCMODE | O_NONBLOCK)) == O_RDWR,
	   "descriptor is O_RDWR and blocking");

	ok(ftruncate(fd, 4096) == 0, "ftruncate the object");
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ok(m != MAP_FAILED, "mmap it");
	strcpy(m, "hello");

	fails_with(shm_open("/basic", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST,
		   "O_CREAT|O_EXCL on an existing object gives EEXIST");
	fd2 = shm_open("/basic", O_RDONLY, 0);
	ok(fd2 >= 0 && same_file(fd2, p1), "O_RDONLY opens the same object");
	char buf[6] = "";
	ok(pread(fd2, buf, 5, 0) == 5 && strcmp(buf, "hello") == 0,
	   "it reads what the mapping wrote");
	fails_with(write(fd2, "x", 1), EBADF, "an O_RDONLY object is not writable");
	close(fd2);

	fd2 = shm_open("/basic", O_RDWR | O_CREAT, 0600);
	ok(fd2 >= 0 && same_file(fd2, p1),
	   "O_CREAT without O_EXCL opens the existing object");
	ok(fstat(fd2, &st) == 0 && st.st_size == 4096 && (st.st_mode & 0777) == 0644,
	   "... without changing its size or mode");
	close(fd2);

	fd2 = shm_open("/basic", O_RDWR | O_TRUNC, 0);
	ok(fd2 >= 0 && fstat(fd2, &st) == 0 && st.st_size == 0,
	   "O_TRUNC truncates an existing object to 0");
	close(fd2);
	munmap(m, 4096);
	close(fd);

	umask(077);
	fd = shm_open("/masked", O_RDWR | O_CREAT, 0666);
	ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0600,
	   "mode 0666 under umask 077 gives 0600");
	close(fd);
	umask(0);
	fd = shm_open("/bits", O_RDWR | O_CREAT, 07777);
	ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 07777) == 0777,
	   "only mode & 0777 is used (no set-ID or sticky bits)");
	close(fd);
	umask(022);
	ok(shm_unlink("/basic") == 0 && shm_unlink("/masked") == 0 &&
		   shm_unlink("/bits") == 0, "unlink them");
	root_is_empty("after unlinking every object");
}

static void test_flags(void)
{
	fails_with(shm_open("/f", O_WRONLY | O_CREAT, 0600), EINVAL,
		   "O_WRONLY gives EINVAL");
	fails_with(shm_open("/f", O_ACCMODE | O_CREAT, 0600), EINVAL,
		   "access mode 3 gives EINVAL");
	fails_with(shm_open("/f", O_RDONLY | O_CREAT | O_TRUNC, 0600), EINVAL,
		   "O_RDONLY|O_TRUNC gives EINVAL");
	fails_with(shm_open("/f", O_RDWR, 0), ENOENT,
		   "opening a missing object gives ENOENT");
	fails_with(shm_open("/f", O_RDONLY, 0), ENOENT,
		   "... also read-only");
	root_is_empty("after failed opens (no lock file left behind)");

	int fd = shm_open("/ro", O_RDONLY | O_CREAT, 0400);
	ok(fd >= 0, "O_RDONLY|O_CREAT creates an object");
	ok((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "... opened read-only");
	close(fd);
	ok(shm_unlink("/ro") == 0, "unlink it");
}

static void test_names(void)
{
	static const char *bad[] = { "foo", "//foo", "/a/b", "/", "", "/a/" };
	char name[300];

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		fails_with(shm_open(bad[i], O_RDWR | O_CREAT, 0600), EINVAL,
			   "shm_open(\"%s\") gives EINVAL", bad[i]);
		fails_with(shm_unlink(bad[i]), EINVAL,
			   "shm_unlink(\"%s\") gives EINVAL", bad[i]);
	}
	name[0] = '/';
	memset(name + 1, 'z', 256);
	name[257] = '\0';
	fails_with(shm_open(name, O_RDWR | O_CREAT, 0600), ENAMETOOLONG,
		   "a 256-character name gives ENAMETOOLONG");
	fails_with(shm_unlink(name), ENAMETOOLONG,
		   "shm_unlink of it gives ENAMETOOLONG");
	root_is_empty("after invalid names");
}

static void test_long_names(void)
{
	char name[300], dir[PATH_MAX];
	struct stat st;

	for (size_t len = 250; len <= 255; len++) {
		int fd;

		name[0] = '/';
		memset(name + 1, 'a' + (char)(len - 250), len);
		name[len + 1] = '\0';
		fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
		if (len == 250) {
			snprintf(p1, sizeof p1, "%s/.SHMD%s", test_root(), name + 1);
			ok(fd >= 0 && same_file(fd, p1),
			   "a 250-character name is flat: <root>/.SHMD<name>");
		} else {
			/* The hash directory is the only entry in the root. */
			DIR *d = opendir(test_root());
			struct dirent *e;

			dir[0] = '\0';
			while (d && (e = readdir(d)) != NULL)
				if (strlen(e->d_name) == 33 && e->d_name[0] == '.')
					snprintf(dir, sizeof dir, "%s/%s",
						 test_root(), e->d_name);
			if (d)
				closedir(d);
			snprintf(p1, sizeof p1, "%s/.SHMD/%s", dir, name + 1);
			ok(fd >= 0 && dir[0] && same_file(fd, p1),
			   "a %zu-character name lives in <root>/.<md5>/.SHMD/", len);
			ok(lstat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
				   (st.st_mode & 07777) == 01777,
			   "... the hash directory has mode 01777 despite umask 022");
			snprintf(p2, sizeof p2, "%s/.SHMD", dir);
			ok(lstat(p2, &st) == 0 && (st.st_mode & 07777) == 01777,
			   "... and so has .SHMD");
			int fd2 = shm_open(name, O_RDONLY, 0);
			ok(fd2 >= 0 && same_file(fd2, p1), "... it opens again");
			close(fd2);
		}
		close(fd);
		ok(shm_unlink(name) == 0, "unlink the %zu-character name", len);
		fails_with(shm_unlink(name), ENOENT, "a second unlink gives ENOENT");
		root_is_empty("(hash directories removed when empty)");
	}
	fails_with(shm_open("/missing-but-very-long-name-xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
			    "xxxxxxxxxxxxxx",
			    O_RDWR, 0),
		   ENOENT, "opening a missing long name gives ENOENT");
	root_is_empty("after it (no directories left)");
}

static void test_unlink(void)
{
	struct stat a, b;
	int fd = shm_open("/gone", O_RDWR | O_CREAT | O_EXCL, 0600);

	ok(fd >= 0 && ftruncate(fd, 4096) == 0, "create /gone, 4096 bytes");
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	ok(m != MAP_FAILED, "map it and close the descriptor");
	fstat(fd, &a);
	ok(shm_unlink("/gone") == 0, "unlink it");
	ok(!exists(in_root(p1, sizeof p1, ".SHMDgone")), "its file is gone");
	strcpy(m, "still here");
	ok(strcmp(m, "still here") == 0, "the existing mapping still works");
	fails_with(shm_open("/gone", O_RDWR, 0), ENOENT,
		   "a later open without O_CREAT gives ENOENT");
	fails_with(shm_unlink("/gone"), ENOENT, "a second unlink gives ENOENT");
	fd = shm_open("/gone", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && fstat(fd, &b) == 0 && b.st_size == 0,
	   "O_CREAT now makes a new, empty object");
	ok(m[0] == 's', "the old mapping is not affected by the new object");
	munmap(m, 4096);
	close(fd);
	ok(shm_unlink("/gone") == 0, "unlink the new one");
	root_is_empty("after unlink");
}

static void victim_intact(const char *victim, const char *what)
{
	char buf[16] = "";
	int fd = open(victim, O_RDONLY);

	ok(fd >= 0 && read(fd, buf, sizeof buf - 1) == 6 &&
		   strcmp(buf, "victim") == 0,
	   "%s: the link's target is untouched", what);
	if (fd >= 0)
		close(fd);
}

/* Expects every kind of open of name to fail with EINVAL, quickly. */
static int all_opens_einval(void *arg)
{
	const char *name = arg;
	static const int flags[] = { O_RDONLY, O_RDWR, O_RDWR | O_CREAT,
				     O_RDWR | O_CREAT | O_TRUNC, O_RDWR | O_TRUNC };

	alarm(10); /* a FIFO must not block us */
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		errno = 0;
		if (shm_open(name, flags[i], 0600) != -1 || errno != EINVAL)
			return 1 + (int)i;
	}
	return 0;
}

static void test_hostile(void)
{
	char victim[PATH_MAX], dir[PATH_MAX];
	int fd, s;

	snprintf(dir, sizeof dir, "%s.outside", test_root());
	mkdir(dir, 0700);
	snprintf(victim, sizeof victim, "%s/victim", dir);
	fd = open(victim, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, "victim", 6) != 6)
		bail("victim");
	close(fd);

	in_root(p1, sizeof p1, ".SHMDlink");
	if (symlink(victim, p1) < 0)
		bail("symlink");
	ok(in_child(all_opens_einval, "/link") == 0,
	   "a symlink at the data path gives EINVAL for every open");
	victim_intact(victim, "data symlink");
	fails_with(shm_open("/link", O_RDWR | O_CREAT | O_EXCL, 0600), EEXIST,
		   "O_CREAT|O_EXCL over the symlink gives EEXIST");
	ok(unlink(p1) == 0, "the symlink itself is still there");

	/* A dangling link must not create its target. */
	snprintf(p2, sizeof p2, "%s/target", dir);
	if (symlink(p2, p1) < 0)
		bail("symlink");
	fails_with(shm_open("/link", O_RDWR | O_CREAT, 0600), EINVAL,
		   "a dangling symlink at the data path gives EINVAL");
	ok(!exists(p2), "... and its target is not created");
	unlink(p1);

	/*
	 * shm_open never touches the lock path (only removal of an object
	 * that cannot be opened takes the lock file): a link there is
	 * neither followed nor in the way.
	 */
	in_root(p1, sizeof p1, ".SHMLlocklink");
	if (symlink(p2, p1) < 0)
		bail("symlink");
	fd = shm_open("/locklink", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && !exists(p2), "a symlink at the lock path does not stop shm_open, "
	   "and its target is not created");
	close(fd);
	ok(shm_unlink("/locklink") == 0 && !exists(p2), "... nor shm_unlink");
	ok(is_symlink(p1), "... and the link is left alone");
	unlink(p1);

	/* shm_unlink does not remove what is not an object. */
	if (symlink(victim, in_root(p1, sizeof p1, ".SHMDulink")) < 0)
		bail("symlink");
	fails_with(shm_unlink("/ulink"), EINVAL, "shm_unlink of a symlink at the data path gives EINVAL");
	ok(is_symlink(p1), "... and leaves it there");
	victim_intact(victim, "unlinked symlink");
	unlink(p1);
	if (mkfifo(in_root(p1, sizeof p1, ".SHMDufifo"), 0666) < 0)
		bail("mkfifo");
	alarm(10); /* a FIFO must not block us */
	fails_with(shm_unlink("/ufifo"), EINVAL, "shm_unlink of a FIFO gives EINVAL, without blocking");
	alarm(0);
	ok(exists(p1), "... and leaves it there");
	unlink(p1);
	mkdir(in_root(p1, sizeof p1, ".SHMDudir"), 0777);
	fails_with(shm_unlink("/udir"), EINVAL, "shm_unlink of a directory gives EINVAL");
	rmdir(p1);

	in_root(p1, sizeof p1, ".SHMDfifo");
	if (mkfifo(p1, 0666) < 0)
		bail("mkfifo");
	ok(in_child(all_opens_einval, "/fifo") == 0,
	   "a FIFO at the data path gives EINVAL without blocking");
	unlink(p1);

	in_root(p1, sizeof p1, ".SHMDdir");
	mkdir(p1, 0777);
	ok(in_child(all_opens_einval, "/dir") == 0,
	   "a directory at the data path gives EINVAL");
	rmdir(p1);

	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	in_root(sa.sun_path, sizeof sa.sun_path, ".SHMDsock");
	s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0)
		bail("bind");
	ok(in_child(all_opens_einval, "/sock") == 0,
	   "a socket at the data path gives EINVAL");
	close(s);
	unlink(sa.sun_path);

	in_root(p1, sizeof p1, ".SHMDdev");
	if (mknod(p1, S_IFCHR | 0666, makedev(1, 3)) == 0) {
		ok(in_child(all_opens_einval, "/dev") == 0,
		   "a device (/dev/null's numbers) at the data path gives EINVAL");
		unlink(p1);
	} else {
		skip(1, "cannot mknod a device here (needs root)");
	}

	snprintf(p2, sizeof p2, "%s/victim", dir);
	unlink(p2);
	rmdir(dir);
	root_is_empty("after the hostile files are removed");
}

/* Run as "t_shm glibc-names" with SHMSHIM_NAMES=glibc. */
static int glibc_names(void)
{
	struct stat a, b, c;
	int fa = shm_open("foo", O_RDWR | O_CREAT | O_EXCL, 0600);
	int fb = shm_open("/foo", O_RDWR, 0);
	int fc = shm_open("//foo", O_RDWR, 0);

	ok(fa >= 0 && fb >= 0 && fc >= 0, "glibc names: foo, /foo, //foo all open");
	ok(fstat(fa, &a) == 0 && fstat(fb, &b) == 0 && fstat(fc, &c) == 0 &&
		   a.st_ino == b.st_ino && b.st_ino == c.st_ino,
	   "... and are one object");
	ok(exists(in_root(p1, sizeof p1, ".SHMDfoo")), "... stored as .SHMDfoo");
	fails_with(shm_open("/", O_RDWR | O_CREAT, 0600), EINVAL, "\"/\" is EINVAL");
	fails_with(shm_open("/a/b", O_RDWR | O_CREAT, 0600), EINVAL,
		   "\"/a/b\" is EINVAL");
	fails_with(shm_open("/..", O_RDWR | O_CREAT, 0600), EINVAL,
		   "\"/..\" is EINVAL");
	ok(shm_unlink("//foo") == 0, "unlink //foo removes it");
	fails_with(shm_unlink("foo"), ENOENT, "then foo is gone");
	close(fa);
	close(fb);
	close(fc);
	return tap_failures;
}

/* Run as "t_shm debug" with stderr in a file. */
static int debug_calls(void)
{
	int fd = shm_open("/dbg", O_RDWR | O_CREAT, 0640);

	close(fd);
	shm_open("/nothere", O_RDONLY, 0);
	shm_unlink("/dbg");
	return fd >= 0 ? 0 : 1;
}

static void test_debug(void)
{
	char errfile[PATH_MAX], want[PATH_MAX + 100];
	char *out;

	snprintf(errfile, sizeof errfile, "%s.stderr", test_root());
	ok(run_self("debug", "SHMSHIM_DEBUG", "1", errfile) == 0,
	   "a program with SHMSHIM_DEBUG=1 runs");
	out = slurp(errfile);
	snprintf(want, sizeof want,
		 "shm_open(\"/dbg\", O_RDWR|O_CREAT, 0640) file %s/.SHMDdbg = ",
		 test_root());
	ok(strstr(out, want) != NULL, "the trace shows shm_open's call, flags, mode and file");
	ok(strstr(out, "shm_open(\"/nothere\", O_RDONLY, 0) file ") &&
		   strstr(out, "= -1 ENOENT"),
	   "... a failed call with its errno");
	ok(strstr(out, "shm_unlink(\"/dbg\") file ") && strstr(out, ".SHMDdbg = 0"),
	   "... and shm_unlink");
	int lines = 0;
	for (char *p = out; *p; p++)
		lines += *p == '\n';
	if (!ok(lines == 3, "one line per call"))
		diag("trace was:\n%s", out);

	ok(run_self("debug", "SHMSHIM_DEBUG", NULL, errfile) == 0,
	   "the same program without SHMSHIM_DEBUG runs");
	out = slurp(errfile);
	if (!ok(out[0] == '\0', "... and writes nothing to stderr"))
		diag("stderr was: %s", out);
	unlink(errfile);
	root_is_empty("after the debug runs");
}

/*
 * /dev/shm/NAME is the object /NAME (devshm.c): what open and write put
 * there, shm_open reads; unlink removes it; write-only opens work; statvfs
 * of /dev/shm is the root's file system.
 */
static void test_devshm(void)
{
	struct statvfs dev, root;
	struct stat st;
	char buf[8] = "";
	int fd = open("/dev/shm/devshm", O_RDWR | O_CREAT | O_EXCL, 0600);

	ok(fd >= 0 && write(fd, "abc", 3) == 3 && close(fd) == 0 &&
		   exists(in_root(p1, sizeof p1, ".SHMDdevshm")),
	   "open and write of /dev/shm/devshm make <root>/.SHMDdevshm");
	ok(stat("/dev/shm/devshm", &st) == 0 && st.st_size == 3 && S_ISREG(st.st_mode) &&
		   access("/dev/shm/devshm", R_OK | W_OK) == 0 &&
		   stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode),
	   "stat and access of /dev/shm/devshm describe it; stat of /dev/shm, the root");
	fd = shm_open("/devshm", O_RDONLY, 0);
	ok(fd >= 0 && read(fd, buf, sizeof buf) == 3 && memcmp(buf, "abc", 3) == 0,
	   "... which shm_open(\"/devshm\") reads");
	if (fd >= 0)
		close(fd);
	ok(unlink("/dev/shm/devshm") == 0 && !exists(p1), "unlink of /dev/shm/devshm removes it");
	fails_with(shm_open("/devshm", O_RDONLY, 0), ENOENT, "... and shm_open finds nothing");
	fd = open("/dev/shm/devshm", O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) == 0 && fcntl(fd, F_GETFL) >= 0 &&
		   (fcntl(fd, F_GETFL) & O_ACCMODE) == O_WRONLY,
	   "open(O_WRONLY) of /dev/shm/devshm works, and is not close-on-exec unless asked");
	if (fd >= 0)
		close(fd);
	ok(shm_unlink("/devshm") == 0 && !exists(p1), "shm_unlink removes what open made");
	ok(statvfs("/dev/shm", &dev) == 0 && statvfs(test_root(), &root) == 0 &&
		   dev.f_fsid == root.f_fsid,
	   "statvfs(\"/dev/shm\") describes the root's file system");
	root_is_empty("after the /dev/shm paths");
}

/* Whether the directory at path lists exactly the names in want (NULL-ended). */
static bool lists(const char *path, const char *const *want)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int seen = 0, n = 0, i;

	if (d == NULL)
		return false;
	for (i = 0; want[i] != NULL; i++)
		n++;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		for (i = 0; want[i] != NULL && strcmp(want[i], e->d_name) != 0; i++)
			;
		seen += want[i] != NULL ? 1 : 100;
	}
	closedir(d);
	return seen == n;
}

/* A Unix socket's address for path. */
static socklen_t unix_addr(struct sockaddr_un *un, const char *path)
{
	memset(un, 0, sizeof *un);
	un->sun_family = AF_UNIX;
	snprintf(un->sun_path, sizeof un->sun_path, "%s", path);
	return (socklen_t)sizeof *un;
}

#ifdef __GLIBC__
/* glibc's old stat entry point, as a program built before glibc 2.33 calls it. */
int __xstat(int ver, const char *path, struct stat *buf);
#if defined(__x86_64__)
#define XSTAT_VER 1
#else
#define XSTAT_VER 0
#endif
#endif

/*
 * Directories, files in them, sockets, renames, fopen and the mkstemp
 * family beneath /dev/shm: all in the object's slot, <root>/.SHMDNAME.
 */
static void test_devshm_deep(void)
{
	static const char *const two[] = { "a", "b", NULL };
	static const char *const one[] = { "b", NULL };
	char buf[16] = "", tmpl[64];
	struct sockaddr_un un;
	socklen_t len;
	struct stat st, st2;
	int fd, srv, cli;
	FILE *f;

	ok(mkdir("/dev/shm/dir", 0700) == 0 && stat(in_root(p1, sizeof p1, ".SHMDdir"), &st) == 0 &&
		   S_ISDIR(st.st_mode) && (st.st_mode & 07777) == 0700,
	   "mkdir of /dev/shm/dir makes the directory <root>/.SHMDdir");
	fails_with(mkdir("/dev/shm/dir", 0700), EEXIST, "... once");
	fd = open("/dev/shm/dir/a", O_RDWR | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "deep", 4) == 4 && close(fd) == 0 &&
		   exists(in_root(p2, sizeof p2, ".SHMDdir/a")),
	   "open(O_CREAT) of /dev/shm/dir/a makes <root>/.SHMDdir/a");
	ok(stat("/dev/shm/dir/a", &st) == 0 && st.st_size == 4 && access("/dev/shm/dir/a", W_OK) == 0 &&
		   lstat("/dev/shm/dir", &st) == 0 && S_ISDIR(st.st_mode),
	   "stat, lstat and access of the directory and the file in it");
	f = fopen("/dev/shm/dir/a", "r");
	ok(f != NULL && fread(buf, 1, sizeof buf, f) == 4 && memcmp(buf, "deep", 4) == 0,
	   "fopen of /dev/shm/dir/a reads it");
	if (f != NULL)
		fclose(f);
	ok(chmod("/dev/shm/dir/a", 0640) == 0 && chown("/dev/shm/dir/a", getuid(), getgid()) == 0 &&
		   truncate("/dev/shm/dir/a", 2) == 0 && stat(p2, &st) == 0 &&
		   (st.st_mode & 07777) == 0640 && st.st_size == 2,
	   "chmod, chown and truncate of /dev/shm/dir/a change <root>/.SHMDdir/a");
	ok(chmod("/dev/shm/dir", 0750) == 0 && stat(p1, &st) == 0 && (st.st_mode & 07777) == 0750,
	   "chmod of /dev/shm/dir changes the directory");
	ok(rename("/dev/shm/dir/a", "/dev/shm/dir/b") == 0 && lists("/dev/shm/dir", one),
	   "rename within /dev/shm/dir, and opendir lists it");
	fails_with(rename("/dev/shm/dir/b", p1), EXDEV, "rename out of /dev/shm is EXDEV");
	fd = open("/dev/shm/dir/a", O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0 && close(fd) == 0 && lists("/dev/shm/dir", two), "opendir lists two files");
	fails_with(rmdir("/dev/shm/dir"), ENOTEMPTY, "rmdir of a full directory is ENOTEMPTY");
	fails_with(open("/dev/shm/dir", O_RDWR), EISDIR, "open(O_RDWR) of the directory is EISDIR");
	fd = open("/dev/shm/dir", O_RDONLY | O_DIRECTORY);
	ok(fd >= 0, "open(O_DIRECTORY) of /dev/shm/dir");
	if (fd >= 0)
		close(fd);
	ok(mkfifo(in_root(p2, sizeof p2, ".SHMDdir/fifo"), 0600) == 0, "a FIFO in /dev/shm/dir");
	fails_with(truncate("/dev/shm/dir/fifo", 0), EINVAL, "truncate of it is EINVAL, without waiting");
	ok(unlink("/dev/shm/dir/fifo") == 0, "... removed");
	fd = open(in_root(p2, sizeof p2, "rootfile"), O_WRONLY | O_CREAT, 0600);
	ok(fd >= 0 && close(fd) == 0, "a file of the root's own, <root>/rootfile");
	fails_with(stat("/dev/shm/dir/../rootfile", &st), ENOENT,
		   "/dev/shm/dir/../rootfile is not the root's file (\"..\" goes to the C library)");
	ok(unlink(p2) == 0, "... removed");
	ok(unlink("/dev/shm/dir/a") == 0 && remove("/dev/shm/dir/b") == 0 && remove("/dev/shm/dir") == 0 &&
		   !exists(p1),
	   "unlink and remove of the files, then remove of the directory");

	f = fopen("/dev/shm/fopened", "w");
	ok(f != NULL && fputs("via fopen", f) >= 0 && fclose(f) == 0, "fopen(\"w\") of /dev/shm/fopened");
	fd = shm_open("/fopened", O_RDONLY, 0);
	ok(fd >= 0 && read(fd, buf, 9) == 9 && memcmp(buf, "via fopen", 9) == 0,
	   "... is the object shm_open(\"/fopened\") reads");
	if (fd >= 0)
		close(fd);
	fails_with(stat("/dev/shm/fopened/", &st), ENOTDIR, "stat of /dev/shm/fopened/ is ENOTDIR");
	fails_with(open("/dev/shm/fopened/", O_RDONLY), ENOTDIR, "... open too");
	fails_with(unlink("/dev/shm/fopened/"), ENOTDIR, "... unlink too, which leaves it");
	ok(shm_unlink("/fopened") == 0, "... and removes");

	snprintf(tmpl, sizeof tmpl, "/dev/shm/tmpXXXXXX");
	fd = mkstemp(tmpl);
	ok(fd >= 0 && strncmp(tmpl, "/dev/shm/tmp", 12) == 0 && strcmp(tmpl + 12, "XXXXXX") != 0 &&
		   fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600 && stat(tmpl, &st) == 0,
	   "mkstemp of /dev/shm/tmpXXXXXX makes a new file, mode 0600");
	snprintf(p1, sizeof p1, "%s/.SHMD%s", test_root(), tmpl + 9);
	ok(exists(p1) && unlink(tmpl) == 0 && !exists(p1), "... in the root, as an object; unlink removes it");
	if (fd >= 0)
		close(fd);
	snprintf(tmpl, sizeof tmpl, "/dev/shm/tmpXXXXXX.s");
	fd = mkostemps(tmpl, 2, O_CLOEXEC);
	ok(fd >= 0 && strcmp(tmpl + 18, ".s") == 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC) &&
		   unlink(tmpl) == 0,
	   "mkostemps keeps the suffix and takes O_CLOEXEC");
	if (fd >= 0)
		close(fd);
	snprintf(tmpl, sizeof tmpl, "/dev/shm/tmpXXXXX");
	fails_with(mkstemp(tmpl), EINVAL, "mkstemp with five X is EINVAL");
	snprintf(tmpl, sizeof tmpl, "/dev/shm/dXXXXXX");
	ok(mkdtemp(tmpl) != NULL && stat(tmpl, &st) == 0 && S_ISDIR(st.st_mode) &&
		   (st.st_mode & 0777) == 0700 && rmdir(tmpl) == 0,
	   "mkdtemp makes a directory, mode 0700; rmdir removes it");

	srv = socket(AF_UNIX, SOCK_STREAM, 0);
	cli = socket(AF_UNIX, SOCK_STREAM, 0);
	len = unix_addr(&un, "/dev/shm/sock");
	ok(srv >= 0 && bind(srv, (struct sockaddr *)&un, len) == 0 && listen(srv, 1) == 0 &&
		   stat(in_root(p1, sizeof p1, ".SHMDsock"), &st) == 0 && S_ISSOCK(st.st_mode),
	   "bind of /dev/shm/sock makes the socket <root>/.SHMDsock");
	ok(cli >= 0 && connect(cli, (struct sockaddr *)&un, len) == 0 && write(cli, "x", 1) == 1,
	   "... and connect reaches it");
	fd = open("/dev/shm/sock", O_RDWR);
	ok(fd < 0 && errno == ENXIO, "open of the socket is ENXIO, as in /dev/shm");
	ok(stat("/dev/shm/sock", &st) == 0 && S_ISSOCK(st.st_mode) && unlink("/dev/shm/sock") == 0 &&
		   !exists(p1),
	   "stat describes the socket, unlink removes it");
	if (srv >= 0)
		close(srv);
	if (cli >= 0)
		close(cli);

	ok(symlink(test_root(), in_root(p1, sizeof p1, ".SHMDlink")) == 0, "a link planted as a slot");
	fails_with(mkdir("/dev/shm/link/x", 0700), ENOTDIR, "mkdir through it is refused (ENOTDIR)");
	fails_with(open("/dev/shm/link/y", O_RDWR | O_CREAT, 0600), ENOTDIR, "open through it is refused");
	ok(!exists(in_root(p2, sizeof p2, "x")) && !exists(in_root(p2, sizeof p2, "y")),
	   "... and nothing was made where it points");
	ok(stat(test_root(), &st) == 0, "the root's mode, before");
	fails_with(chmod("/dev/shm/link", 0777), ELOOP, "chmod of the link is refused (ELOOP)");
	fails_with(chown("/dev/shm/link", 1, 1), ELOOP, "... chown too");
	ok(stat(test_root(), &st2) == 0 && st2.st_mode == st.st_mode && st2.st_uid == st.st_uid,
	   "... and where it points is unchanged");
	fails_with(opendir("/dev/shm/link") == NULL ? -1 : 0, ENOTDIR,
		   "opendir of the link is refused (ENOTDIR)");
	ok(unlink(p1) == 0, "the link removed");
#ifdef __GLIBC__
	fd = open("/dev/shm/old", O_RDWR | O_CREAT, 0600);
	ok(fd >= 0 && write(fd, "12345", 5) == 5 && __xstat(XSTAT_VER, "/dev/shm/old", &st) == 0 &&
		   st.st_size == 5 && __xstat(XSTAT_VER, "/", &st) == 0 && S_ISDIR(st.st_mode),
	   "__xstat, as programs built before glibc 2.33 call stat, of /dev/shm/old and of /");
	if (fd >= 0)
		close(fd);
	ok(shm_unlink("/old") == 0, "... removed");
#endif
	root_is_empty("after the deeper /dev/shm paths");
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_nested = argc > 1;
	if (argc > 1 && strcmp(argv[1], "glibc-names") == 0)
		return glibc_names();
	if (argc > 1 && strcmp(argv[1], "debug") == 0)
		return debug_calls();

	test_create_and_files();
	test_flags();
	test_names();
	test_long_names();
	test_unlink();
	test_hostile();
	test_devshm();
	test_devshm_deep();
	ok(run_self("glibc-names", "SHMSHIM_NAMES", "glibc", NULL) == 0,
	   "SHMSHIM_NAMES=glibc: the glibc rules (see the sub-run above)");
	root_is_empty("after the glibc-names run");
	test_debug();
	return done_testing();
}
