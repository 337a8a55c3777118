/*
 * Shared by the libFuzzer harnesses of tests/fuzz: each file defines
 * LLVMFuzzerTestOneInput and aborts (through the sanitizers or FUZZ_ASSERT)
 * on anything that would be a bug in the server.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ASSERT(expr)                                                          \
	do {                                                                       \
		if (!(expr)) {                                                     \
			fprintf(stderr, "%s:%d: FUZZ_ASSERT(%s)\n", __FILE__, __LINE__, #expr); \
			abort();                                                   \
		}                                                                  \
	} while (0)

#endif
