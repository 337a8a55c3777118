/* The slot's look at its running execution in the store (run_watch.h). */
#include "run_watch.h"

#include "log.h"

/*
 * 1 while the attempt is still this runner's and not cancelled; 0 when it
 * was cancelled, or the sweep took it away (requeued or given up: the
 * result would be fenced anyway, so the run only wastes a slot); -1 when
 * the store did not answer (the run goes on; the next tick asks again).
 */
static int still_wanted(struct run_watch *w)
{
	struct store_query *q = store_query(w->claims->store, STMT_RUN_WATCH);
	store_bind_str(q, 1, w->claim->id);
	store_bind_str(q, 2, w->claims->runner_id);
	store_bind_int64(q, 3, w->claim->attempt);
	enum store_rc rc = store_step(q);
	int wanted = rc == STORE_ROW ? store_column_int64(q, 0) == 0 : rc == STORE_DONE ? 0 : -1;
	store_reset(q);
	return wanted;
}

/* Feeds the rows sent since the last tick to the program's stdin. */
static void feed_stdin(struct run_watch *w, struct sandbox_live *live)
{
	struct store_query *q = store_query(w->claims->store, STMT_STDIN_AFTER);
	store_bind_str(q, 1, w->claim->id);
	store_bind_int64(q, 2, w->stdin_seq);
	while (store_step(q) == STORE_ROW) {
		size_t len;
		const char *data = store_column_text(q, STDIN_ROW_DATA, &len);
		if (sandbox_live_feed(live, data ? data : "", len, store_column_int64(q, STDIN_ROW_EOF) != 0) < 0) {
			log_error("execution %s: out of memory feeding stdin", w->claim->id);
			break;
		}
		w->stdin_seq = store_column_int64(q, STDIN_ROW_SEQ);
	}
	store_reset(q);
}

static bool tick(void *arg, struct sandbox_live *live)
{
	struct run_watch *w = arg;

	if (still_wanted(w) == 0)
		return true;
	if (w->claim->interactive)
		feed_stdin(w, live);
	return false;
}

void run_watch_init(struct run_watch *w, struct claims *c, const struct claim *cl)
{
	*w = (struct run_watch){
		.claims = c, .claim = cl,
		.watch = { .interval_ms = cl->interactive ? RUN_WATCH_INPUT_MS : RUN_WATCH_CANCEL_MS,
			   .tick = tick, .arg = w },
	};
}
