/*
 * md5.c - MD5 message digest, written from RFC 1321.
 *
 * Owns nothing but the digest. Long object names are stored under a
 * directory named after the MD5 of the name, as illumos does; MD5 is used
 * for naming only, never for security.
 */
#define _GNU_SOURCE
#include "md5.h"

#include <stdint.h>
#include <string.h>

struct md5_state {
	uint32_t a, b, c, d;
};

/* Per-step left-rotation amounts, four per round. */
static const unsigned char rotation[4][4] = {
	{ 7, 12, 17, 22 }, { 5, 9, 14, 20 }, { 4, 11, 16, 23 }, { 6, 10, 15, 21 },
};

/* The sine table T[i] = floor(abs(sin(i + 1)) * 2^32) from the RFC. */
static const uint32_t sine[64] = {
	0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a,
	0xa8304613, 0xfd469501, 0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be,
	0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821, 0xf61e2562, 0xc040b340,
	0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
	0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8,
	0x676f02d9, 0x8d2a4c8a, 0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c,
	0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70, 0x289b7ec6, 0xeaa127fa,
	0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
	0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92,
	0xffeff47d, 0x85845dd1, 0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1,
	0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
};

static uint32_t rotl(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

static uint32_t load_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static void store_le32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

/* The auxiliary function and message word of step i (0..63). */
static uint32_t mix(unsigned i, uint32_t b, uint32_t c, uint32_t d,
		    const uint32_t x[16])
{
	switch (i / 16) {
	case 0: return ((b & c) | (~b & d)) + x[i % 16];
	case 1: return ((b & d) | (c & ~d)) + x[(5 * i + 1) % 16];
	case 2: return (b ^ c ^ d) + x[(3 * i + 5) % 16];
	default: return (c ^ (b | ~d)) + x[(7 * i) % 16];
	}
}

static void md5_block(struct md5_state *s, const unsigned char block[64])
{
	uint32_t x[16];
	uint32_t a = s->a, b = s->b, c = s->c, d = s->d;

	for (size_t i = 0; i < 16; i++)
		x[i] = load_le32(block + 4 * i);
	for (unsigned i = 0; i < 64; i++) {
		uint32_t t = a + mix(i, b, c, d, x) + sine[i];
		a = d;
		d = c;
		c = b;
		b = b + rotl(t, rotation[i / 16][i % 4]);
	}
	s->a += a;
	s->b += b;
	s->c += c;
	s->d += d;
}

void md5(const void *data, size_t len, unsigned char digest[MD5_DIGEST_LEN])
{
	struct md5_state s = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476 };
	const unsigned char *p = data;
	unsigned char tail[128];
	size_t rest = len % 64;
	size_t tail_len = rest < 56 ? 64 : 128;
	uint64_t bits = (uint64_t)len * 8;

	for (size_t i = 0; i + 64 <= len; i += 64)
		md5_block(&s, p + i);

	/* Padding: a 1 bit, zeros, then the length in bits, little-endian. */
	memset(tail, 0, sizeof tail);
	if (rest)
		memcpy(tail, p + len - rest, rest);
	tail[rest] = 0x80;
	store_le32(tail + tail_len - 8, (uint32_t)bits);
	store_le32(tail + tail_len - 4, (uint32_t)(bits >> 32));
	md5_block(&s, tail);
	if (tail_len == 128)
		md5_block(&s, tail + 64);

	store_le32(digest, s.a);
	store_le32(digest + 4, s.b);
	store_le32(digest + 8, s.c);
	store_le32(digest + 12, s.d);
}

void md5_hex(const void *data, size_t len, char hex[MD5_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char digest[MD5_DIGEST_LEN];

	md5(data, len, digest);
	for (size_t i = 0; i < MD5_DIGEST_LEN; i++) {
		hex[2 * i] = digits[digest[i] >> 4];
		hex[2 * i + 1] = digits[digest[i] & 15];
	}
	hex[MD5_HEX_LEN] = '\0';
}
