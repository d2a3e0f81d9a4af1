/* md5.h - MD5 digest (RFC 1321), used only to name the directory of a long name. */
#ifndef SHMSHIM_MD5_H
#define SHMSHIM_MD5_H

#include <stddef.h>

#define MD5_DIGEST_LEN 16
#define MD5_HEX_LEN 32

void md5(const void *data, size_t len, unsigned char digest[MD5_DIGEST_LEN]);

/* Writes the 32 lower-case hex digits of the digest and a NUL to hex. */
void md5_hex(const void *data, size_t len, char hex[MD5_HEX_LEN + 1]);

#endif
