/*
 * nosysv.c - runs a program where System V shared memory is refused.
 *
 *   nosysv PROGRAM [ARGS...]
 *
 * Installs a seccomp filter under which shmget, shmat, shmdt and shmctl
 * fail with ENOSYS, as on Android and in other sandboxes whose policy
 * forbids them, then execs PROGRAM (searched for in PATH). The filter is
 * inherited by every child and kept across exec, so the program and all it
 * starts are in the sandbox; nothing else is changed.
 *
 * The filter needs no privilege because the process first sets
 * no_new_privs, which also makes set-user-ID programs run without their
 * privilege: a change of user (runuser, setpriv, a setuid in a preexec
 * hook) must come before nosysv, not after it.
 *
 * Only x86_64 and aarch64 are known (another architecture does not build).
 * A system call made in another architecture's convention (an i386
 * program, or int 0x80, on x86_64; arm32 on aarch64), where the numbers
 * differ and the old ipc() multiplexer reaches the same calls, kills the
 * process. Every x32 call on x86_64 (a number with bit 30 set, which would
 * reach the same calls under other numbers) fails with ENOSYS.
 *
 * Exit status: PROGRAM's, or 2 for a usage error, 1 when the filter cannot
 * be installed, 127 when PROGRAM is not found and 126 when it cannot be
 * run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#if defined(__x86_64__)
#define NOSYSV_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NOSYSV_ARCH AUDIT_ARCH_AARCH64
#else
#error "nosysv knows the system call numbers of x86_64 and aarch64 only"
#endif

#ifndef SECCOMP_RET_KILL_PROCESS /* Linux 4.14 */
#define SECCOMP_RET_KILL_PROCESS SECCOMP_RET_KILL
#endif

/* Bit 30 marks x32 system calls on x86_64 (__X32_SYSCALL_BIT). */
#define NOSYSV_X32_BIT 0x40000000u

/* Jumps to the ENOSYS return, n instructions further, when nr is k. */
#define REFUSE_IF(k, n) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (k), (n), 0)

static struct sock_filter filter[] = {
	/* 0: another architecture's convention: kill. */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
	BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NOSYSV_ARCH, 1, 0),
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
	/* 3: the number; x32's (or any above) refused. */
	BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
	BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, NOSYSV_X32_BIT, 5, 0),
	/* 5: the four calls: each jumps to instruction 10. */
	REFUSE_IF(__NR_shmget, 4),
	REFUSE_IF(__NR_shmat, 3),
	REFUSE_IF(__NR_shmdt, 2),
	REFUSE_IF(__NR_shmctl, 1),
	/* 9 */
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	/* 10 */
	BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
};

int main(int argc, char **argv)
{
	struct sock_fprog prog = {
		.len = (unsigned short)(sizeof(filter) / sizeof(filter[0])),
		.filter = filter,
	};

	if (argc < 2 || argv[1][0] == '\0') {
		fprintf(stderr, "usage: nosysv PROGRAM [ARGS...]\n"
			"Runs PROGRAM where shmget, shmat, shmdt and shmctl fail with ENOSYS.\n");
		return 2;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1L, 0L, 0L, 0L) != 0) {
		fprintf(stderr, "nosysv: prctl(PR_SET_NO_NEW_PRIVS): %s\n", strerror(errno));
		return 1;
	}
	if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog, 0L, 0L) != 0) {
		fprintf(stderr, "nosysv: installing the seccomp filter: %s\n", strerror(errno));
		return 1;
	}
	execvp(argv[1], argv + 1);
	int err = errno;
	fprintf(stderr, "nosysv: %s: %s\n", argv[1], strerror(err));
	return err == ENOENT ? 127 : 126;
}
