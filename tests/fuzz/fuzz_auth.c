/*
 * auth_check over any Authorization header, against an HS256 secret: no
 * crash, leak or sanitizer report in the engine's checks or in libjwt's
 * parsing, and a token it accepts names a sub as common/auth.h promises
 * (1-128 bytes, no control character) with at least one scope. The first
 * input byte picks whether "Bearer " is put in front, so most inputs reach
 * the token's parsing.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "fuzz.h"

/* The secret of the seeds in tests/fuzz/corpus/fuzz_auth (minted with PyJWT, exp 4102444800). */
#define FUZZ_SECRET "fuzz-secret-of-the-platform-0123456789"
#define FUZZ_NOW 1800000000

static struct auth *verifier(void)
{
	static struct auth *a;
	struct config cfg;
	char err[256];
	if (a)
		return a;
	char path[] = "/tmp/fuzz-auth-XXXXXX";
	int fd = mkstemp(path);
	FUZZ_ASSERT(fd >= 0 && write(fd, FUZZ_SECRET, strlen(FUZZ_SECRET)) == (ssize_t)strlen(FUZZ_SECRET));
	close(fd);
	config_defaults(&cfg);
	strcpy(cfg.auth, "token");
	strcpy(cfg.auth_hs256_secret_file, path);
	a = auth_new(&cfg, err, sizeof(err));
	unlink(path);
	FUZZ_ASSERT(a != NULL);
	return a;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct principal who;
	if (size == 0)
		return 0;
	bool prefix = data[0] & 1;
	char *header = malloc(size + 8);
	size_t n = 0;
	if (prefix) {
		memcpy(header, "Bearer ", 7);
		n = 7;
	}
	memcpy(header + n, data + 1, size - 1);
	header[n + size - 1] = '\0';
	if (auth_check(verifier(), header, FUZZ_NOW, &who) == NULL) {
		size_t len = strlen(who.sub);
		FUZZ_ASSERT(len >= 1 && len <= AUTH_SUB_MAX && who.scopes != 0);
		for (size_t i = 0; i < len; i++)
			FUZZ_ASSERT((unsigned char)who.sub[i] >= 0x20 && who.sub[i] != 0x7f);
	}
	free(header);
	return 0;
}
