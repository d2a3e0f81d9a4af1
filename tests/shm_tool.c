/*
 * shm_tool.c - a small client for the shmclean tests, run under the shim.
 *
 *   shm_tool create NAME [SIZE]  create an object, write to it, exit
 *   shm_tool hold NAME [SIZE]    create (or open) it and keep the descriptor
 *   shm_tool open NAME           open an existing object read-only, keep it
 *   shm_tool open-on-cue NAME    wait for a line on standard input, then open
 *                                as "open" does
 *   shm_tool map NAME            create it, map it, close the descriptor
 *   shm_tool lock NAME           hold the lock file <root>/.SHML<NAME>
 *   shm_tool flock NAME          hold flock(LOCK_EX) on the data file
 *                                <root>/.SHMD<NAME>, the object's own lock
 *   shm_tool sem NAME            create a semaphore (value 1) and keep it open
 *   shm_tool race NAME           open an existing object; 20 ms later say
 *                                whether it is still the file at its path
 *   shm_tool recreate NAME       unlink NAME and create it anew; 20 ms later
 *                                say whether the new one is at its path
 *   shm_tool unlink NAME         remove it (shm_unlink)
 *   shm_tool devshm-write NAME TEXT   write TEXT to the file /dev/shm/NAME
 *                                (open(2) and write(2), no shm_open)
 *   shm_tool read NAME           print what the object NAME holds
 *                                (shm_open and read)
 *
 * The holding commands print "ready" and wait until standard input closes.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void ready_and_wait(void)
{
	char c;

	printf("ready\n");
	fflush(stdout);
	while (read(0, &c, 1) > 0)
		;
}

static int fail(const char *what)
{
	perror(what);
	return 1;
}

/* Prints whether fd is still the file at name's path, 20 ms from now. */
static void still_there(int fd, const char *name)
{
	char path[4096];
	struct stat a, b;
	struct timespec ts = { 0, 20000000 };

	nanosleep(&ts, NULL);
	snprintf(path, sizeof path, "%s/.SHMD%s", getenv("SHMSHIM_DIR"), name + 1);
	if (fstat(fd, &a) == 0 && lstat(path, &b) == 0 && a.st_ino == b.st_ino)
		printf("kept\n");
	else
		printf("LOST\n");
}

static int race(const char *name)
{
	int fd = shm_open(name, O_RDWR, 0);

	if (fd < 0) {
		printf("enoent\n");
		return 0;
	}
	still_there(fd, name);
	return 0;
}

static int recreate(const char *name)
{
	int fd;

	if (shm_unlink(name) < 0)
		printf("enoent ");
	fd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fail("shm_open");
	still_there(fd, name);
	return 0;
}

/* Writes text to /dev/shm/NAME (name without its slash) as a file. */
static int devshm_write(const char *name, const char *text)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "/dev/shm/%s", name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text) || close(fd) < 0)
		return fail("open and write /dev/shm");
	return 0;
}

/* Prints what the object holds, read through shm_open. */
static int read_object(const char *name)
{
	char buf[4096];
	int fd = shm_open(name, O_RDONLY, 0);
	ssize_t n;

	if (fd < 0 || (n = read(fd, buf, sizeof buf)) < 0)
		return fail("shm_open and read");
	fwrite(buf, 1, (size_t)n, stdout);
	return 0;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 2 ? argv[1] : "", *name = argc > 2 ? argv[2] : "";
	off_t size = argc > 3 ? atol(argv[3]) : 4096;
	int fd;

	if (strcmp(cmd, "race") == 0)
		return race(name);
	if (strcmp(cmd, "recreate") == 0)
		return recreate(name);
	if (strcmp(cmd, "unlink") == 0)
		return shm_unlink(name) == 0 ? 0 : fail("shm_unlink");
	if (strcmp(cmd, "devshm-write") == 0)
		return devshm_write(name, argc > 3 ? argv[3] : "");
	if (strcmp(cmd, "read") == 0)
		return read_object(name);
	if (strcmp(cmd, "sem") == 0) {
		sem_t *sem = sem_open(name, O_CREAT, 0600, 1);

		if (sem == SEM_FAILED)
			return fail("sem_open");
		ready_and_wait();
		return 0;
	}
	if (strcmp(cmd, "lock") == 0) {
		char path[4096];

		snprintf(path, sizeof path, "%s/.SHML%s", getenv("SHMSHIM_DIR"), name + 1);
		fd = open(path, O_RDONLY | O_CREAT, 0444);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			return fail("lock");
		ready_and_wait();
		return 0;
	}
	if (strcmp(cmd, "flock") == 0) {
		char path[4096];

		snprintf(path, sizeof path, "%s/.SHMD%s", getenv("SHMSHIM_DIR"), name + 1);
		fd = open(path, O_RDONLY | O_NOFOLLOW);
		if (fd < 0 || flock(fd, LOCK_EX) < 0)
			return fail("flock");
		ready_and_wait();
		return 0;
	}
	if (strcmp(cmd, "open-on-cue") == 0) {
		char c;

		while (read(0, &c, 1) > 0 && c != '\n')
			;
		cmd = "open";
	}
	if (strcmp(cmd, "open") == 0) {
		fd = shm_open(name, O_RDONLY, 0);
		if (fd < 0)
			return fail("shm_open");
		ready_and_wait();
		return 0;
	}
	if (strcmp(cmd, "create") && strcmp(cmd, "hold") && strcmp(cmd, "map")) {
		fprintf(stderr, "usage: see tests/shm_tool.c\n");
		return 2;
	}
	fd = shm_open(name, O_RDWR | O_CREAT, 0666);
	if (fd < 0 || ftruncate(fd, size) < 0)
		return fail("shm_open");
	if (strcmp(cmd, "map") == 0) {
		void *m = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);

		if (m == MAP_FAILED)
			return fail("mmap");
		close(fd);
		ready_and_wait();
		return 0;
	}
	if (strcmp(cmd, "hold") == 0)
		ready_and_wait();
	return 0;
}
