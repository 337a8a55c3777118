/* Blocks of sandbox uids held in the store (uid_block.h). */
#include "uid_block.h"

#include <stdio.h>

#include "util.h"

/* Takes or keeps block b. grace_ms: how long another holder's hold must
 * have lapsed. Returns 1 if b is runner_id's now, 0 if not, -1 on failure. */
static int hold(struct store *s, const char *runner_id, long b, long hold_ms, long grace_ms)
{
	struct store_query *q = store_query(s, STMT_UID_BLOCK_HOLD);
	store_bind_int64(q, 1, b);
	store_bind_str(q, 2, runner_id);
	store_bind_int64(q, 3, now_ms());
	store_bind_int64(q, 4, hold_ms);
	store_bind_int64(q, 5, grace_ms);
	enum store_rc rc = store_step(q);
	long changed = rc == STORE_DONE ? (long)store_changes(q) : -1;
	store_reset(q);
	return changed < 0 ? -1 : changed > 0;
}

/* The block whose first uid is base. */
static long block_of(long base)
{
	return (base - UID_BLOCK_FIRST) / UID_BLOCK_SIZE;
}

long uid_block_take(struct store *s, const char *runner_id, long hold_ms, char *err, size_t errlen)
{
	for (long b = 0; b < UID_BLOCK_COUNT; b++) {
		int held = hold(s, runner_id, b, hold_ms, hold_ms);
		if (held < 0) {
			snprintf(err, errlen, "sandbox_uid_base = auto: %s", store_errmsg(s));
			return -1;
		}
		if (held)
			return UID_BLOCK_FIRST + b * UID_BLOCK_SIZE;
	}
	snprintf(err, errlen, "sandbox_uid_base = auto: all %d uid blocks are held", UID_BLOCK_COUNT);
	return -1;
}

int uid_block_renew(struct store *s, const char *runner_id, long base, long hold_ms)
{
	return hold(s, runner_id, block_of(base), hold_ms, 0);
}

void uid_block_release(struct store *s, const char *runner_id, long base)
{
	struct store_query *q = store_query(s, STMT_UID_BLOCK_RELEASE);
	store_bind_int64(q, 1, block_of(base));
	store_bind_str(q, 2, runner_id);
	store_step(q);
	store_reset(q);
}
