/*
 * FNV-1a, 64 bits: the compile cache's entry names and checksums, and the
 * syntax memo's keys. Fast and well spread, not a defence against anyone
 * who chooses the input to collide: every use here survives a collision.
 */
#ifndef RUNNER_FNV_H
#define RUNNER_FNV_H

#include <stddef.h>
#include <stdint.h>

#define FNV_OFFSET 14695981039346656037ULL
#define FNV_PRIME 1099511628211ULL

/* h folded with n bytes at p, byte by byte. */
uint64_t fnv1a(uint64_t h, const void *p, size_t n);

/* h folded with n bytes at p, a 64-bit word at a time and then the tail
 * byte by byte: some eight times faster over megabytes. */
uint64_t fnv1a_words(uint64_t h, const void *p, size_t n);

#endif
