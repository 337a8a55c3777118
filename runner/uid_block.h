/*
 * sandbox_uid_base = auto: the runner takes a block of host uids for its
 * slots' sandboxes in the store, so runners that share a kernel (replicas
 * of one container image, several runners on one host) never share a uid,
 * and with it the kernel's per-user ceilings, without anyone assigning
 * ranges by hand. A block is held by heartbeat; the block of a runner that
 * stopped renewing it is free again once its hold has lapsed for as long
 * again.
 */
#ifndef RUNNER_UID_BLOCK_H
#define RUNNER_UID_BLOCK_H

#include "store.h"

#define UID_BLOCK_FIRST 10000000L  /* above the fixed ranges an operator would pick */
#define UID_BLOCK_SIZE 1024L       /* two uids per slot, up to 512 slots */
#define UID_BLOCK_COUNT 4096

/* Takes the first free block for runner_id, held for hold_ms. Returns its
 * first uid, or -1 with the reason in err. */
long uid_block_take(struct store *s, const char *runner_id, long hold_ms, char *err, size_t errlen);

/* Renews the hold on the block that starts at base. Returns 1 while it is
 * still this runner's, 0 once another runner has it, -1 if the store failed. */
int uid_block_renew(struct store *s, const char *runner_id, long base, long hold_ms);

/* Gives the block back (the runner stops). */
void uid_block_release(struct store *s, const char *runner_id, long base);

#endif
