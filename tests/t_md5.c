/* t_md5.c - MD5 against the test suite of RFC 1321, section A.5. */
#define _GNU_SOURCE
#include "md5.h"
#include "tap.h"

static const struct {
	const char *in, *hex;
} vectors[] = {
	{ "", "d41d8cd98f00b204e9800998ecf8427e" },
	{ "a", "0cc175b9c0f1b6a831c399e269772661" },
	{ "abc", "900150983cd24fb0d6963f7d28e17f72" },
	{ "message digest", "f96b697d7cb7938d525a2f31aaf161d0" },
	{ "abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b" },
	{ "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789",
	  "d174ab98d277d9f5a5611c2c9f419d9f" },
	{ "1234567890123456789012345678901234567890123456789012345678901234567"
	  "8901234567890",
	  "57edf4a22be3c955ac49da2e2107b67a" },
};

int main(void)
{
	char hex[MD5_HEX_LEN + 1];

	for (size_t i = 0; i < sizeof vectors / sizeof vectors[0]; i++) {
		md5_hex(vectors[i].in, strlen(vectors[i].in), hex);
		if (!ok(strcmp(hex, vectors[i].hex) == 0, "MD5(\"%.20s\")",
			vectors[i].in))
			diag("got %s, want %s", hex, vectors[i].hex);
	}

	/* Lengths around the padding boundaries (55, 56, 63, 64 bytes). */
	static const struct {
		size_t len;
		const char *hex;
	} as[] = {
		{ 55, "ef1772b6dff9a122358552954ad0df65" },
		{ 56, "3b0c8ac703f828b04c6c197006d17218" },
		{ 63, "b06521f39153d618550606be297466d5" },
		{ 64, "014842d480b571495a4a0363793f7367" },
		{ 1000000, "7707d6ae4e027c70eea2a935c2296f21" },
	};
	for (size_t i = 0; i < sizeof as / sizeof as[0]; i++) {
		char *buf = malloc(as[i].len);

		if (buf == NULL)
			bail("malloc");
		memset(buf, 'a', as[i].len);
		md5_hex(buf, as[i].len, hex);
		if (!ok(strcmp(hex, as[i].hex) == 0, "MD5 of %zu 'a's", as[i].len))
			diag("got %s, want %s", hex, as[i].hex);
		free(buf);
	}
	return done_testing();
}
