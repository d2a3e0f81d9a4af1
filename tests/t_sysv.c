/*
 * t_sysv.c - System V shared memory as files (SHMSHIM_SYSV=files): shmget,
 * shmat, shmdt and shmctl across processes, as Linux's shmget(2), shmat(2)
 * and shmctl(2) describe them, and another user's attacks on a shared
 * root. Runs in a fresh SHMSHIM_DIR (see tests/run) with SHMSHIM_SYSV=files
 * (the tests/sysv-*.t scripts set it).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/syscall.h>

#include "calls.h"
#include "tap.h"

#ifndef SHM_REMAP
#define SHM_REMAP 040000
#endif

static char p1[PATH_MAX], p2[PATH_MAX];

static const char *seg_path(char *buf, int id)
{
	char leaf[32];

	snprintf(leaf, sizeof leaf, ".SHVD%d", id);
	return in_root(buf, PATH_MAX, leaf);
}

static const char *key_path(char *buf, key_t key)
{
	char leaf[32];

	snprintf(leaf, sizeof leaf, ".SHVK%08x", (unsigned)key);
	return in_root(buf, PATH_MAX, leaf);
}

static long nattch(int id)
{
	struct shmid_ds ds;

	return shmctl(id, IPC_STAT, &ds) == 0 ? (long)ds.shm_nattch : -1;
}

/* In a child, as nobody: plants a "link" to target, a "dir" or a "fifo" at path. */
static int plant(void *arg)
{
	char **a = arg;

	become("nobody");
	if (strcmp(a[0], "link") == 0)
		return symlink(a[2], a[1]) == 0 ? 0 : 1;
	if (strcmp(a[0], "dir") == 0)
		return mkdir(a[1], 0755) == 0 ? 0 : 1;
	return mkfifo(a[1], 0666) == 0 ? 0 : 1;
}

/*
 * In a child, as nobody: copies the segment file a[0] to <root>/fake with
 * the header's id set to a[1], and links .SHVD<a[1]> to it.
 */
static int fake_segment(void *arg)
{
	char **a = arg, buf[65536 + 4096], fake[PATH_MAX], link[PATH_MAX];
	int32_t id = atoi(a[1]);
	int in = open(a[0], O_RDONLY), out;
	ssize_t n = in >= 0 ? read(in, buf, sizeof buf) : -1;

	become("nobody");
	in_root(fake, sizeof fake, "fake");
	out = open(fake, O_WRONLY | O_CREAT | O_EXCL, 0644);
	if (n < 65536 || out < 0)
		return 1;
	memcpy(buf + 8, &id, sizeof id); /* the header's id follows its 8-byte magic */
	if (write(out, buf, (size_t)n) != n || close(out) < 0)
		return 2;
	return symlink("fake", seg_path(link, id)) == 0 ? 0 : 3;
}

static bool zeroes(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static void test_private(void)
{
	time_t start = time(NULL);
	struct shmid_ds ds;
	struct stat st;
	int id = shmget(IPC_PRIVATE, 5000, 0640);
	char *p;

	ok(id > 0, "shmget(IPC_PRIVATE, 5000, 0640) gives a positive id");
	ok(lstat(seg_path(p1, id), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0640,
	   "the segment is the regular file <root>/.SHVD<id>, mode 0640 (no umask)");
	ok(count_entries(test_root()) == 1, "a private segment has no key link");
	p = shmat(id, NULL, 0);
	ok(p != (void *)-1 && zeroes(p, 5000), "shmat maps 5000 zero bytes");
	if (p == (void *)-1)
		bail("shmat");
	memset(p, 'x', 5000);
	ok(shmctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
	ok(ds.shm_segsz == 5000 && ds.shm_perm.__key == IPC_PRIVATE, "shm_segsz 5000, key IPC_PRIVATE");
	ok(ds.shm_perm.uid == geteuid() && ds.shm_perm.cuid == geteuid() &&
	   ds.shm_perm.gid == getegid() && ds.shm_perm.cgid == getegid() &&
	   (ds.shm_perm.mode & 0777) == 0640, "shm_perm: the caller's uid, gid, cuid, cgid; mode 0640");
	ok(ds.shm_cpid == getpid() && ds.shm_lpid == getpid(), "shm_cpid and shm_lpid are ours");
	ok(ds.shm_nattch == 1, "shm_nattch 1 (got %ld)", (long)ds.shm_nattch);
	ok(ds.shm_ctime >= start && ds.shm_atime >= start && ds.shm_dtime == 0,
	   "shm_ctime and shm_atime set, shm_dtime not yet");
	ok(shmdt(p) == 0, "shmdt");
	ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_nattch == 0 && ds.shm_dtime >= start,
	   "after shmdt: shm_nattch 0, shm_dtime set");
	fails_with(shmdt(p), EINVAL, "shmdt of a detached address gives EINVAL");
	p = shmat(id, NULL, SHM_RDONLY);
	ok(p != (void *)-1 && p[4999] == 'x', "attached again (SHM_RDONLY), the data is there");
	shmdt(p);
	ok(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
	ok(!exists(p1), "... removes the file");
	fails_with((long)shmat(id, NULL, 0), EINVAL, "shmat of a removed id gives EINVAL");
	fails_with(shmctl(id, IPC_STAT, &ds), EINVAL, "IPC_STAT of a removed id gives EINVAL");
	fails_with(shmctl(-1, IPC_STAT, &ds), EINVAL, "IPC_STAT of id -1 gives EINVAL");
	fails_with(shmget(IPC_PRIVATE, 0, 0600), EINVAL, "a new segment of size 0 gives EINVAL");
	root_is_empty("after the private segment");
}

static void test_keys(void)
{
	key_t key = ftok(test_root(), 'k');
	int id, id2;

	ok(key != -1, "ftok of the root gives a key");
	fails_with(shmget(key, 100, 0600), ENOENT, "shmget of a key with no segment, no IPC_CREAT: ENOENT");
	id = shmget(key, 100, IPC_CREAT | 0600);
	ok(id > 0 && is_symlink(key_path(p1, key)), "IPC_CREAT makes it, and the key's link");
	char text[32] = "";
	ok(readlink(p1, text, sizeof text - 1) > 0 && atoi(text) == id, "the link's text is the id");
	ok(shmget(key, 100, 0600) == id && shmget(key, 0, 0) == id && shmget(key, 50, IPC_CREAT) == id,
	   "the key finds it: same id for size 100, 0 and 50 (IPC_CREAT)");
	fails_with(shmget(key, 101, 0), EINVAL, "a size larger than the segment's gives EINVAL");
	fails_with(shmget(key, 100, IPC_CREAT | IPC_EXCL | 0600), EEXIST, "IPC_CREAT|IPC_EXCL: EEXIST");
	id2 = shmget(key + 1, 100, IPC_CREAT | IPC_EXCL | 0600);
	ok(id2 > 0 && id2 != id, "another key, another segment");
	ok(shmctl(id, IPC_RMID, NULL) == 0 && shmctl(id2, IPC_RMID, NULL) == 0, "IPC_RMID both");
	fails_with(shmget(key, 0, 0), ENOENT, "the key is free after IPC_RMID");
	root_is_empty("after the keyed segments");
}

/* Sub-run "attach KEY TEXT": attaches by key, checks TEXT is there; 0 if so. */
static int attach_check(const char *keytext, const char *want)
{
	int id = shmget((key_t)strtol(keytext, NULL, 0), 0, 0);
	char *p = id > 0 ? shmat(id, NULL, SHM_RDONLY) : (void *)-1;

	if (p == (void *)-1)
		return 1;
	return strcmp(p, want) == 0 ? 0 : 2;
}

/* Sub-run "hold FD": waits until FD (a pipe) reaches its end. */
static int hold(const char *fd)
{
	char c;

	while (read(atoi(fd), &c, 1) > 0)
		;
	return 0;
}

/* In a child: makes the segment of key, writes text and exits without shmdt. */
static int create_and_exit(void *arg)
{
	int id = shmget((key_t)0x5e7a1, 4096, IPC_CREAT | IPC_EXCL | 0600);
	char *p = id > 0 ? shmat(id, NULL, 0) : (void *)-1;

	if (p == (void *)-1)
		return 1;
	strcpy(p, arg);
	return 0;
}

static int run_sub(char *const argv[])
{
	pid_t pid = fork();

	if (pid == 0) {
		exec_self(argv);
		_exit(127);
	}
	return wait_status(pid);
}

static void test_persistence(void)
{
	int id;

	ok(in_child(create_and_exit, "left by the creator") == 0, "a child makes key 0x5e7a1, writes, exits");
	id = shmget(0x5e7a1, 0, 0);
	ok(id > 0 && nattch(id) == 0, "the segment outlives its creator, with no attachment");
	ok(run_sub((char *const[]){ (char *)self_path, "attach", "0x5e7a1", "left by the creator", NULL }) == 0,
	   "a process started later attaches by key and reads what the creator wrote");
	ok(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
	root_is_empty("after the persistent segment");
}

static void test_rmid_attached(void)
{
	int id = shmget(0x5e7a2, 8192, IPC_CREAT | 0600), id2;
	char *p = shmat(id, NULL, 0);
	int go[2];
	pid_t pid;

	if (p == (void *)-1 || pipe(go) < 0)
		bail("shmat");
	strcpy(p, "before");
	pid = fork();
	if (pid == 0) { /* stays attached, then checks the parent's write after IPC_RMID */
		char c;

		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(3);
		_exit(strcmp(p, "after removal") == 0 ? 0 : 1);
	}
	close(go[0]);
	ok(nattch(id) == 2, "attached in parent and child: shm_nattch 2");
	ok(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID while attached");
	fails_with(shmget(0x5e7a2, 0, 0), ENOENT, "the key is free at once");
	id2 = shmget(0x5e7a2, 4096, IPC_CREAT | IPC_EXCL | 0600);
	ok(id2 > 0 && id2 != id, "and makes a new segment");
	strcpy(p, "after removal");
	ok(write(go[1], "x", 1) == 1 && wait_status(pid) == 0,
	   "the removed segment's memory is still shared between the attached processes");
	close(go[1]);
	ok(shmdt(p) == 0, "shmdt of the removed segment");
	shmctl(id2, IPC_RMID, NULL);
	root_is_empty("after IPC_RMID while attached");
}

static int nothing(void *arg)
{
	(void)arg;
	return 0;
}

static void test_nattch(void)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600), go[2], go2[2];
	char *p = shmat(id, NULL, 0), fdtext[16];
	pid_t pid;

	if (p == (void *)-1 || pipe(go) < 0 || pipe(go2) < 0)
		bail("shmat");
	ok(nattch(id) == 1, "shm_nattch 1 after shmat");
	pid = fork();
	if (pid == 0) {
		char c;

		close(go[1]);
		if (shmat(id, NULL, 0) == (void *)-1 || read(go[0], &c, 1) != 1)
			_exit(1);
		snprintf(fdtext, sizeof fdtext, "%d", go2[0]);
		close(go2[1]);
		exec_self((char *const[]){ (char *)self_path, "hold", fdtext, NULL });
		_exit(127);
	}
	close(go[0]);
	close(go2[0]);
	for (int i = 0; i < 200 && nattch(id) != 3; i++)
		sleep_ms(10);
	ok(nattch(id) == 3, "after fork and a second shmat in the child: 3 (got %ld)", nattch(id));
	ok(write(go[1], "x", 1) == 1, "the child execs");
	for (int i = 0; i < 500 && nattch(id) != 1; i++)
		sleep_ms(10);
	ok(nattch(id) == 1, "exec drops the child's attachments: 1 (got %ld)", nattch(id));
	close(go2[1]);
	ok(wait_status(pid) == 0 && nattch(id) == 1, "the child exits; still 1");
	ok(in_child(nothing, NULL) == 0 && nattch(id) == 1,
	   "a forked child that exits at once leaves 1");
	shmdt(p);
	ok(nattch(id) == 0, "shmdt: 0");
	shmctl(id, IPC_RMID, NULL);
	close(go[1]);
}

#define FAULTED 77

static void on_fault(int sig)
{
	(void)sig;
	_exit(FAULTED);
}

/*
 * Whether reading or writing *p faults (SIGSEGV), in a child that says so
 * by its exit status: its own handler, so that neither the sanitizers nor
 * valgrind report the fault the test wants.
 */
static bool faults(volatile char *p, bool write)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGSEGV, on_fault);
		if (write)
			*p = 1;
		else
			(void)*p;
		_exit(0);
	}
	return wait_status(pid) == FAULTED;
}

static void test_attach_flags(void)
{
	long page = sysconf(_SC_PAGESIZE);
	int id = shmget(IPC_PRIVATE, 3 * (size_t)page, 0600);
	char *area = mmap(NULL, 8 * (size_t)page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *p, *q;

	if (id < 0 || area == MAP_FAILED)
		bail("setup");
	p = shmat(id, NULL, SHM_RDONLY);
	ok(p != (void *)-1 && !faults(p, false) && faults(p, true),
	   "SHM_RDONLY: readable, a write faults");
	shmdt(p);
	fails_with((long)shmat(id, area + 1, 0), EINVAL, "an address not page-aligned without SHM_RND: EINVAL");
	fails_with((long)shmat(id, area, 0), EINVAL, "an address in use without SHM_REMAP: EINVAL");
	fails_with((long)shmat(id, NULL, SHM_REMAP), EINVAL, "SHM_REMAP without an address: EINVAL");
	q = shmat(id, area + SHMLBA + 7, SHM_RND | SHM_REMAP);
	ok(q == area + SHMLBA, "SHM_RND rounds down to SHMLBA; SHM_REMAP replaces the mapping there");
	if (q == area + SHMLBA)
		strcpy(q, "fixed");
	ok(shmdt(q) == 0, "shmdt it");
	munmap(area, 8 * (size_t)page);
	p = shmat(id, area, 0);
	ok(p == area && strcmp(p, "fixed") == 0, "a free fixed address is used as given");
	ok(mprotect(p + page, (size_t)page, PROT_READ) == 0, "mprotect splits an attachment");
	fails_with(shmdt(p + page), EINVAL, "shmdt inside an attachment: EINVAL");
	ok(shmdt(p) == 0, "shmdt of the split attachment");
	q = shmat(id, p, 0);
	ok(q == p, "... unmapped all of it: the same range attaches again without SHM_REMAP");
	ok(shmdt(q) == 0, "shmdt it");
	char *heap = malloc(64);
	fails_with(shmdt(heap), EINVAL, "shmdt of memory that is no attachment: EINVAL");
	free(heap);
	shmctl(id, IPC_RMID, NULL);
}

static void test_control(void)
{
	struct shmid_ds ds;
	struct shminfo info;
	struct shm_info usage;
	struct stat st;
	int id = shmget(0x5e7a3, 10000, IPC_CREAT | 0600);

	ok(shmctl(id, IPC_STAT, &ds) == 0, "IPC_STAT");
	ds.shm_perm.mode = 0644;
	ok(shmctl(id, IPC_SET, &ds) == 0 && stat(seg_path(p1, id), &st) == 0 &&
	   (st.st_mode & 0777) == 0644, "IPC_SET mode 0644 sets the file's mode");
	ok(shmctl(id, IPC_STAT, &ds) == 0 && (ds.shm_perm.mode & 0777) == 0644 &&
	   ds.shm_perm.__key == 0x5e7a3, "IPC_STAT shows it, with the key");
	if (geteuid() == 0) {
		struct passwd *pw = getpwnam("daemon");

		ds.shm_perm.uid = pw->pw_uid;
		ok(shmctl(id, IPC_SET, &ds) == 0 && stat(p1, &st) == 0 && st.st_uid == pw->pw_uid,
		   "IPC_SET uid (as root) gives the segment's file to daemon");
		ok(shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_perm.uid == pw->pw_uid &&
		   ds.shm_perm.cuid == pw->pw_uid,
		   "uid daemon, and cuid too (a creator other than the owner is not believed)");
	} else {
		skip(2, "IPC_SET of the uid takes root");
	}
	fails_with(shmctl(id, 12345, &ds), EINVAL, "an unknown command: EINVAL");
	fails_with(shmctl(123456789, IPC_RMID, NULL), EINVAL, "IPC_RMID of an unknown id: EINVAL");
	fails_with(shmctl(id, IPC_STAT, NULL), EFAULT, "IPC_STAT without a buffer: EFAULT");
	ok(shmctl(0, IPC_INFO, (struct shmid_ds *)(void *)&info) >= 0 && info.shmmin == 1 &&
	   info.shmmax >= 1UL << 40, "IPC_INFO: shmmin 1, a large shmmax");
	ok(shmctl(0, SHM_INFO, (struct shmid_ds *)(void *)&usage) >= 0 && usage.used_ids == 1 &&
	   usage.shm_tot == (unsigned long)((10000 + sysconf(_SC_PAGESIZE) - 1) / sysconf(_SC_PAGESIZE)),
	   "SHM_INFO: one segment, its pages");
	ok(shmctl(id, IPC_RMID, NULL) == 0, "IPC_RMID");
	root_is_empty("after the control tests");
}

/* One call made as another user in a child (see as_user). */
struct op {
	const char *user;
	enum { GET, ATTACH, ATTACH_RO, ATTACH_EXEC, READ, WRITE, STAT, SET, RMID } what;
	key_t key;
	int id;
	int flags;     /* GET: shmget's flags (IPC_CREAT: size 4096) */
	const char *text; /* READ: what must be there; WRITE: what to write */
};

static int do_op(void *arg)
{
	const struct op *o = arg;
	struct shmid_ds ds;
	char *p;
	int r = 0;

	become(o->user);
	alarm(10); /* a call that hangs fails the test rather than stopping it */
	switch (o->what) {
	case GET: /* id 0: any id will do */
		r = shmget(o->key, o->flags & IPC_CREAT ? 4096 : 0, o->flags);
		if (r >= 0 && o->id != 0 && r != o->id)
			return 100;
		r = r >= 0 ? 0 : -1;
		break;
	case ATTACH:
	case ATTACH_RO:
	case ATTACH_EXEC:
		r = shmat(o->id, NULL, o->what == ATTACH_RO ? SHM_RDONLY :
			  o->what == ATTACH_EXEC ? SHM_EXEC : 0) == (void *)-1 ? -1 : 0;
		break;
	case READ:
		p = shmat(o->id, NULL, SHM_RDONLY);
		if (p == (void *)-1)
			break;
		return strcmp(p, o->text) == 0 ? 0 : 101;
	case WRITE:
		p = shmat(o->id, NULL, 0);
		if (p == (void *)-1)
			break;
		strcpy(p, o->text);
		return 0;
	case STAT:
		r = shmctl(o->id, IPC_STAT, &ds);
		break;
	case SET: /* root's segment: uid and gid 0, mode 0666 */
		memset(&ds, 0, sizeof ds);
		ds.shm_perm.mode = 0666;
		r = shmctl(o->id, IPC_SET, &ds);
		break;
	case RMID:
		r = shmctl(o->id, IPC_RMID, NULL);
		break;
	}
	return r == 0 ? 0 : errno > 0 && errno < 100 ? errno : 99;
}

/* The errno of the call (0 if it did what it should), made as o->user. */
static int as_user(struct op o)
{
	return in_child(do_op, &o);
}

/* Another user's attacks on root's segments, and on daemon's, in the sticky root. */
static void test_other_user(void)
{
	int id, fd;
	struct stat st;

	if (geteuid() != 0) {
		skip(26, "another user's calls take root (to become nobody and daemon)");
		return;
	}
	id = shmget(0x5e7c1, 4096, IPC_CREAT | 0600);
	ok(as_user((struct op){ "nobody", GET, 0x5e7c1, id, 0600, NULL }) == EACCES,
	   "nobody: shmget of root's 0600 segment asking for read and write: EACCES");
	ok(as_user((struct op){ "nobody", GET, 0x5e7c1, id, 0, NULL }) == 0,
	   "nobody: shmget asking for nothing finds it, as Linux's does");
	ok(as_user((struct op){ "nobody", ATTACH_RO, 0, id, 0, NULL }) == EACCES &&
	   as_user((struct op){ "nobody", ATTACH, 0, id, 0, NULL }) == EACCES,
	   "nobody: shmat of it, read-only or not: EACCES");
	ok(as_user((struct op){ "nobody", STAT, 0, id, 0, NULL }) == EACCES, "nobody: IPC_STAT: EACCES");
	ok(as_user((struct op){ "nobody", SET, 0, id, 0, NULL }) == EPERM &&
	   as_user((struct op){ "nobody", RMID, 0, id, 0, NULL }) == EPERM,
	   "nobody: IPC_SET (mode 0666) and IPC_RMID: EPERM");
	ok(lstat(seg_path(p1, id), &st) == 0 && (st.st_mode & 0777) == 0600 &&
	   shmget(0x5e7c1, 0, 0) == id, "root's segment is intact, its key still finds it");
	shmctl(id, IPC_STAT, &(struct shmid_ds){ 0 });
	struct shmid_ds ds;
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0644;
	shmctl(id, IPC_SET, &ds);
	strcpy(shmat(id, NULL, 0), "root's");
	ok(as_user((struct op){ "nobody", READ, 0, id, 0, "root's" }) == 0 &&
	   as_user((struct op){ "nobody", ATTACH, 0, id, 0, NULL }) == EACCES,
	   "0644: nobody attaches read-only and reads, but not for writing (EACCES)");
	ds.shm_perm.mode = 0666;
	shmctl(id, IPC_SET, &ds);
	ok(as_user((struct op){ "nobody", WRITE, 0, id, 0, "nobody's" }) == 0 &&
	   as_user((struct op){ "daemon", READ, 0, id, 0, "nobody's" }) == 0,
	   "0666: nobody writes, daemon reads it");
	ok(as_user((struct op){ "nobody", RMID, 0, id, 0, NULL }) == EPERM &&
	   as_user((struct op){ "nobody", SET, 0, id, 0, NULL }) == EPERM && exists(p1),
	   "0666: nobody still cannot remove it or change it (EPERM)");
	ok(as_user((struct op){ "nobody", ATTACH_EXEC, 0, id, 0, NULL }) == EACCES,
	   "0666: nobody's shmat with SHM_EXEC: EACCES (no execute permission)");
	shmctl(id, IPC_RMID, NULL);

	/* Planted by nobody: a link at a segment's name, pointing at root's file. */
	snprintf(p2, sizeof p2, "%s/victim", test_root());
	fd = open(p2, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ok(fd >= 0 && write(fd, "secret", 6) == 6, "root's victim file");
	close(fd);
	ok(in_child(plant, (char *[]){ "link", (char *)seg_path(p1, 4242), "victim" }) == 0 &&
	   in_child(plant, (char *[]){ "link", (char *)key_path(p1, 0x5e7c2), "4242" }) == 0,
	   "nobody plants .SHVD4242 -> victim and .SHVK<key> -> 4242");
	fails_with((long)shmat(4242, NULL, 0), EINVAL, "root: shmat(4242) does not follow the link: EINVAL");
	fails_with(shmget(0x5e7c2, 0, 0), ENOENT, "root: the key names no segment: ENOENT");
	ok(stat(p2, &st) == 0 && st.st_size == 6 && st.st_uid == 0, "the victim file is untouched");
	ok(as_user((struct op){ "daemon", GET, 0x5e7c2, 0, IPC_CREAT | 0600, NULL }) == EACCES,
	   "daemon: IPC_CREAT where nobody's stale link cannot be removed (sticky root): EACCES");
	unlink(p1);
	unlink(seg_path(p1, 4242));
	/* nobody's link at a key, naming root's segment of another key. */
	id = shmget(0x5e7c4, 4096, IPC_CREAT | 0644);
	snprintf(p2, sizeof p2, "%d", id);
	ok(in_child(plant, (char *[]){ "link", (char *)key_path(p1, 0x5e7c5), p2 }) == 0,
	   "nobody plants .SHVK<key2> naming root's segment of key1");
	fails_with(shmget(0x5e7c5, 0, 0), ENOENT, "root: key2 finds nothing (the segment's header has key1)");
	unlink(p1);
	/* nobody's copy of a segment's file, reached through a link at a segment's name. */
	ok(in_child(fake_segment, (char *[]){ (char *)seg_path(p1, id), "4244" }) == 0,
	   "nobody copies root's segment file as <root>/fake (header id 4244), links .SHVD4244 to it");
	fails_with((long)shmat(4244, NULL, 0), EINVAL, "root: shmat(4244) does not follow the link: EINVAL");
	unlink(seg_path(p1, 4244));
	unlink(in_root(p1, sizeof p1, "fake"));
	/* In a root without the sticky bit the file system would let nobody unlink: the shim does not. */
	ds.shm_perm.mode = 0666;
	shmctl(id, IPC_STAT, &ds);
	ds.shm_perm.mode = 0666;
	shmctl(id, IPC_SET, &ds);
	chmod(test_root(), 0777);
	ok(as_user((struct op){ "nobody", RMID, 0, id, 0, NULL }) == EPERM && exists(seg_path(p1, id)),
	   "root 0777 (not sticky): nobody's IPC_RMID of root's 0666 segment is still EPERM");
	chmod(test_root(), 01777);
	shmctl(id, IPC_RMID, NULL);
	snprintf(p2, sizeof p2, "%s/victim", test_root());
	/* A FIFO at a segment's name must not hang the open. */
	ok(in_child(plant, (char *[]){ "fifo", (char *)seg_path(p1, 4243), "" }) == 0 &&
	   as_user((struct op){ "daemon", ATTACH, 0, 4243, 0, NULL }) == EINVAL,
	   "daemon: shmat of nobody's FIFO at .SHVD4243: EINVAL, no hang");
	unlink(p1);
	/* nobody's segment squatting a key: found, and IPC_STAT tells whose. */
	ok(as_user((struct op){ "nobody", GET, 0x5e7c3, 0, IPC_CREAT | 0666, NULL }) == 0,
	   "nobody makes a 0666 segment with the key daemon will use");
	id = shmget(0x5e7c3, 0, 0);
	ok(id > 0 && shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_perm.uid == getpwnam("nobody")->pw_uid &&
	   ds.shm_perm.cuid == getpwnam("nobody")->pw_uid,
	   "the key's segment is nobody's, and IPC_STAT says so (uid, cuid)");
	ok(as_user((struct op){ "daemon", GET, 0x5e7c3, id, IPC_CREAT | IPC_EXCL | 0600, NULL }) == EEXIST,
	   "daemon's IPC_CREAT|IPC_EXCL on it: EEXIST, as with Linux's");
	shmctl(id, IPC_RMID, NULL);
	unlink(p2);
	root_is_empty("after another user's attacks");
}

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)
#endif

/*
 * In a child, as nobody: swaps its segment file a[0] with the link a[1]
 * (to root's file) again and again, until killed.
 */
static int swapper(void *arg)
{
	char **a = arg;

	become("nobody");
	for (;;)
		syscall(SYS_renameat2, AT_FDCWD, a[0], AT_FDCWD, a[1], RENAME_EXCHANGE);
	return 0;
}

/* In a child, as nobody: makes a segment of key a[0] claiming daemon as creator. */
static int forge_creator(void *arg)
{
	char **a = arg, path[PATH_MAX];
	uint32_t daemon_uid = getpwnam("daemon")->pw_uid;
	int id, fd;

	become("nobody");
	id = shmget((key_t)strtol(a[0], NULL, 0), 4096, IPC_CREAT | 0600);
	fd = id > 0 ? open(seg_path(path, id), O_WRONLY) : -1;
	/* cuid follows the magic (8 bytes), id, key (4 each) and size (8) */
	return fd >= 0 && pwrite(fd, &daemon_uid, sizeof daemon_uid, 24) == 4 ? 0 : 1;
}

static void test_swaps(void)
{
	char link[PATH_MAX], victim[PATH_MAX];
	struct shmid_ds ds;
	struct stat st;
	int id = -1, done = 0, fd;
	pid_t pid;

	/* No sticky bit, so that fs.protected_symlinks does not stop root following nobody's link. */
	chmod(test_root(), 0777);
	in_root(victim, sizeof victim, "victim");
	fd = open(victim, O_WRONLY | O_CREAT | O_EXCL, 0600);
	close(fd);
	ok(as_user((struct op){ "nobody", GET, 0x5e7c6, 0, IPC_CREAT | 0644, NULL }) == 0 &&
	   (id = shmget(0x5e7c6, 0, 0)) > 0 && shmctl(id, IPC_STAT, &ds) == 0,
	   "nobody makes a segment; root finds it");
	in_root(link, sizeof link, "evil");
	ok(in_child(plant, (char *[]){ "link", link, victim }) == 0, "nobody links 'evil' to root's 0600 file");
	pid = fork();
	if (pid == 0)
		_exit(swapper((char *[]){ (char *)seg_path(p1, id), link }));
	ds.shm_perm.mode = 0666;
	for (int i = 0; i < (quick() ? 300 : 5000); i++)
		done += shmctl(id, IPC_SET, &ds) == 0;
	kill(pid, SIGKILL);
	wait_status(pid);
	ok(stat(victim, &st) == 0 && (st.st_mode & 0777) == 0600,
	   "root's IPC_SET (mode 0666) of nobody's segment while nobody swaps its file with a link "
	   "to root's file: that file is never changed (%d of the calls went through)", done);
	if (lstat(seg_path(p1, id), &st) == 0 && S_ISLNK(st.st_mode))
		rename(link, p1); /* stopped while swapped: the file back over the link */
	unlink(link);
	unlink(victim);
	shmctl(id, IPC_RMID, NULL);
	chmod(test_root(), 01777);

	/* The key's lock planted by nobody: the owner's IPC_RMID removes the segment anyway. */
	id = -1;
	ok(as_user((struct op){ "daemon", GET, 0x5e7c7, 0, IPC_CREAT | 0600, NULL }) == 0 &&
	   (id = shmget(0x5e7c7, 0, 0)) > 0, "daemon makes a segment");
	snprintf(link, sizeof link, "%s/.SHVL%08x", test_root(), 0x5e7c7);
	ok(in_child(plant, (char *[]){ "dir", link, "" }) == 0, "nobody makes a directory at its key's lock");
	ok(as_user((struct op){ "daemon", RMID, 0, id, 0, NULL }) == 0 && !exists(seg_path(p1, id)),
	   "daemon's IPC_RMID removes the segment all the same");
	ok(as_user((struct op){ "daemon", GET, 0x5e7c7, 0, 0, NULL }) == ENOENT,
	   "... and the key finds nothing (its link left stale)");
	rmdir(link);
	unlink(key_path(p1, 0x5e7c7));

	/* A held key lock delays IPC_RMID briefly, not for the lock's time-out. */
	id = shmget(0x5e7c9, 4096, IPC_CREAT | 0600);
	snprintf(link, sizeof link, "%s/.SHVL%08x", test_root(), 0x5e7c9);
	fd = open(link, O_RDONLY | O_CREAT, 0444);
	ok(id > 0 && fd >= 0 && flock(fd, LOCK_EX) == 0, "a segment, and its key's lock held");
	double began = now_seconds();
	ok(shmctl(id, IPC_RMID, NULL) == 0 && !exists(seg_path(p1, id)),
	   "IPC_RMID removes the segment all the same");
	double took = now_seconds() - began;
	timed_ok(took < 1.0, "... without waiting for the lock's time-out (took %.3f s)", took);
	close(fd);
	unlink(link);
	unlink(key_path(p1, 0x5e7c9));

	/* A creator claimed in the header is not believed. */
	ok(in_child(forge_creator, (char *[]){ "0x5e7c8" }) == 0,
	   "nobody makes a segment whose header names daemon as its creator");
	id = shmget(0x5e7c8, 0, 0);
	ok(id > 0 && shmctl(id, IPC_STAT, &ds) == 0 && ds.shm_perm.cuid == getpwnam("nobody")->pw_uid,
	   "IPC_STAT gives nobody as its creator");
	ok(as_user((struct op){ "daemon", RMID, 0, id, 0, NULL }) == EPERM && exists(seg_path(p1, id)),
	   "daemon cannot remove it (EPERM)");
	shmctl(id, IPC_RMID, NULL);
	root_is_empty("after the swaps");
}

/* A child racing to make the key with IPC_EXCL: exit 0 made, 1 EEXIST, 2 other. */
static int race_one(int fd, key_t key)
{
	char c;

	if (read(fd, &c, 1) != 1)
		return 3;
	if (shmget(key, 4096, IPC_CREAT | IPC_EXCL | 0600) > 0)
		return 0;
	return errno == EEXIST ? 1 : 2;
}

static void test_excl_race(void)
{
	int rounds = quick() ? 3 : 20, bad = 0;

	for (int r = 0; r < rounds; r++) {
		key_t key = 0x5e7b00 + r;
		int go[2], made = 0, exist = 0;
		pid_t pids[8];

		if (pipe(go) < 0)
			bail("pipe");
		for (int i = 0; i < 8; i++) {
			pids[i] = fork();
			if (pids[i] == 0) {
				close(go[1]);
				_exit(race_one(go[0], key));
			}
		}
		close(go[0]);
		if (write(go[1], "12345678", 8) != 8) /* one byte each: they start together */
			bail("write");
		close(go[1]);
		for (int i = 0; i < 8; i++) {
			int st = wait_status(pids[i]);

			made += st == 0;
			exist += st == 1;
			if (st > 1)
				diag("a racer exited %d", st);
		}
		bad += !(made == 1 && exist == 7);
		if (made != 1 || exist != 7)
			diag("round %d: %d made, %d EEXIST", r, made, exist);
		shmctl(shmget(key, 0, 0), IPC_RMID, NULL);
	}
	ok(bad == 0, "8 processes race IPC_CREAT|IPC_EXCL on one key, %d rounds: exactly one makes it", rounds);
	root_is_empty("after the races");
}

/* Sub-run "kernel": shmget must give a kernel segment, the root stay empty. */
static int kernel_segment(void)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600), found = 0;
	char line[256];
	FILE *f = fopen("/proc/sysvipc/shm", "r");

	if (id < 0)
		return 1;
	while (f != NULL && fgets(line, sizeof line, f) != NULL) {
		int key, shmid;

		found |= sscanf(line, "%d %d", &key, &shmid) == 2 && shmid == id;
	}
	if (f != NULL)
		fclose(f);
	shmctl(id, IPC_RMID, NULL);
	return count_entries(test_root()) != 0 ? 2 : f != NULL && !found ? 3 : 0;
}

/* Sub-run "refused" (in the sandbox): shmget fails with ENOSYS; "files": makes a file. */
static int sandbox_segment(bool files)
{
	int id = shmget(IPC_PRIVATE, 4096, 0600);

	if (!files)
		return id == -1 && errno == ENOSYS ? 0 : 1;
	if (id < 0 || !exists(seg_path(p1, id)))
		return 2;
	return shmctl(id, IPC_RMID, NULL) == 0 ? 0 : 3;
}

/* Sub-run "debug": calls the shim refuses, for their trace lines. */
static int debug_calls(void)
{
	shmget(0x5e7d1, 0, 0);
	shmat(123456789, NULL, 0);
	return 0;
}

static void test_settings(void)
{
	char errfile[PATH_MAX];
	const char *out;

	snprintf(errfile, sizeof errfile, "%s.err", test_root());
	if (getenv("SHMSHIM_TEST_SANDBOX") != NULL) {
		ok(run_self("files", "SHMSHIM_SYSV", NULL, NULL) == 0,
		   "in the sandbox, SHMSHIM_SYSV unset: segments are files (the kernel refuses)");
		ok(run_self("refused", "SHMSHIM_SYSV", "native", NULL) == 0,
		   "in the sandbox, SHMSHIM_SYSV=native: shmget fails with ENOSYS, as without the shim");
		ok(run_self("files", "SHMSHIM_SYSV", "files", NULL) == 0,
		   "in the sandbox, SHMSHIM_SYSV=files: files");
		root_is_empty("after the sub-runs");
		return;
	}
	ok(run_self("kernel", "SHMSHIM_SYSV", "native", NULL) == 0,
	   "SHMSHIM_SYSV=native: shmget makes a kernel segment (in /proc/sysvipc/shm), no file");
	ok(run_self("kernel", "SHMSHIM_SYSV", NULL, NULL) == 0,
	   "SHMSHIM_SYSV unset, where the kernel has System V: the kernel's segment, no file");
	ok(run_self("kernel", "SHMSHIM_SYSV", "file", errfile) == 0,
	   "SHMSHIM_SYSV=file (not understood): auto, the kernel's segment");
	out = slurp(errfile);
	ok(strstr(out, "shmshim: SHMSHIM_SYSV is not understood (it takes files, native or auto): "
		       "auto is used") != NULL, "... and it says so on stderr");
	ok(run_self("debug", "SHMSHIM_DEBUG", "1", errfile) == 0, "SHMSHIM_DEBUG=1 with files");
	out = slurp(errfile);
	ok(strstr(out, "shmget(\"key 0x0005e7d1, size 0, flags 00\") file - = -1 ENOENT") != NULL &&
	   strstr(out, ": the key has no segment, and no IPC_CREAT\n") != NULL,
	   "the trace names the key, size and flags, the errno and why");
	ok(strstr(out, "shmat(\"id 123456789, address 0x0, flags 00\") file - = -1 EINVAL") != NULL &&
	   strstr(out, ": no segment with this id (or it was removed)\n") != NULL,
	   "shmat's line names the id and why it failed");
	if (!ok(strstr(out, "shmat") != NULL, "(the trace was written)"))
		diag("%s", out);
	unlink(errfile);
	root_is_empty("after the sub-runs");
}

int main(int argc, char **argv)
{
	self_path = argv[0];
	setvbuf(stdout, NULL, _IOLBF, 0);
	tap_nested = argc > 1;
	if (argc > 3 && strcmp(argv[1], "attach") == 0)
		return attach_check(argv[2], argv[3]);
	if (argc > 2 && strcmp(argv[1], "hold") == 0)
		return hold(argv[2]);
	if (argc > 1 && strcmp(argv[1], "kernel") == 0)
		return kernel_segment();
	if (argc > 1 && strcmp(argv[1], "debug") == 0)
		return debug_calls();
	if (argc > 1 && (strcmp(argv[1], "refused") == 0 || strcmp(argv[1], "files") == 0))
		return sandbox_segment(strcmp(argv[1], "files") == 0);

	test_private();
	test_keys();
	test_persistence();
	test_rmid_attached();
	test_nattch();
	test_attach_flags();
	test_control();
	test_excl_race();
	test_other_user();
	if (geteuid() == 0)
		test_swaps();
	else
		skip(14, "another user's attacks take root (to become nobody and daemon)");
	test_settings();
	return done_testing();
}
