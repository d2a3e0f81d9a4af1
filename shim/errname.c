/*
 * errname.c - the names and texts of the errno values the calls can give.
 *
 * strerrorname_np and strerrordesc_np would do, but they came with glibc
 * 2.32 and the library must load on glibc 2.17 (README, Platforms); musl
 * lacks them. strerror is no substitute inside the trace: it may
 * translate, and so allocate. A value not listed is printed as a number.
 */
#include "errname.h"

#include <errno.h>
#include <stddef.h>

#define ERR(e, text) { e, #e, text }

static const struct {
	int err;
	const char *name;
	const char *text;
} table[] = {
	ERR(EPERM, "Operation not permitted"),
	ERR(ENOENT, "No such file or directory"),
	ERR(ESRCH, "No such process"),
	ERR(EINTR, "Interrupted system call"),
	ERR(EIO, "Input/output error"),
	ERR(ENXIO, "No such device or address"),
	ERR(E2BIG, "Argument list too long"),
	ERR(ENOEXEC, "Exec format error"),
	ERR(EBADF, "Bad file descriptor"),
	ERR(ECHILD, "No child processes"),
	ERR(EAGAIN, "Resource temporarily unavailable"),
	ERR(ENOMEM, "Cannot allocate memory"),
	ERR(EACCES, "Permission denied"),
	ERR(EFAULT, "Bad address"),
	ERR(EBUSY, "Device or resource busy"),
	ERR(EEXIST, "File exists"),
	ERR(EXDEV, "Invalid cross-device link"),
	ERR(ENODEV, "No such device"),
	ERR(ENOTDIR, "Not a directory"),
	ERR(EISDIR, "Is a directory"),
	ERR(EINVAL, "Invalid argument"),
	ERR(ENFILE, "Too many open files in system"),
	ERR(EMFILE, "Too many open files"),
	ERR(ENOTTY, "Inappropriate ioctl for device"),
	ERR(ETXTBSY, "Text file busy"),
	ERR(EFBIG, "File too large"),
	ERR(ENOSPC, "No space left on device"),
	ERR(ESPIPE, "Illegal seek"),
	ERR(EROFS, "Read-only file system"),
	ERR(EMLINK, "Too many links"),
	ERR(EPIPE, "Broken pipe"),
	ERR(ERANGE, "Numerical result out of range"),
	ERR(EDEADLK, "Resource deadlock avoided"),
	ERR(ENAMETOOLONG, "File name too long"),
	ERR(ENOLCK, "No locks available"),
	ERR(ENOSYS, "Function not implemented"),
	ERR(ENOTEMPTY, "Directory not empty"),
	ERR(ELOOP, "Too many levels of symbolic links"),
	ERR(EOVERFLOW, "Value too large for defined data type"),
	ERR(EOPNOTSUPP, "Operation not supported"),
	ERR(ESTALE, "Stale file handle"),
	ERR(EDQUOT, "Disk quota exceeded"),
	ERR(ECANCELED, "Operation canceled"),
	ERR(EOWNERDEAD, "Owner died"),
	ERR(ENOTRECOVERABLE, "State not recoverable"),
};

static int find(int err)
{
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (table[i].err == err)
			return (int)i;
	return -1;
}

const char *err_name(int err)
{
	int i = find(err);

	return i < 0 ? NULL : table[i].name;
}

const char *err_text(int err)
{
	int i = find(err);

	return i < 0 ? "Unknown error" : table[i].text;
}
