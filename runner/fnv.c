/* FNV-1a (fnv.h). */
#include "fnv.h"

#include <string.h>

uint64_t fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * FNV_PRIME;
	return h;
}

uint64_t fnv1a_words(uint64_t h, const void *p, size_t n)
{
	const char *c = p;
	uint64_t w;
	size_t i = 0;

	for (; i + sizeof w <= n; i += sizeof w) {
		memcpy(&w, c + i, sizeof w);
		h = (h ^ w) * FNV_PRIME;
	}
	return fnv1a(h, c + i, n - i);
}
