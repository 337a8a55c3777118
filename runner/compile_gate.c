/* The compile gate (compile_gate.h): a semaphore waited on with a deadline. */
#include "compile_gate.h"

#include <errno.h>
#include <time.h>

#include "util.h"

int compile_gate_init(struct compile_gate *g, int places, int64_t max_wait_ms)
{
	g->max_wait_ms = max_wait_ms > 0 ? max_wait_ms : 0;
	return sem_init(&g->places, 0, (unsigned int)(places > 0 ? places : 1));
}

void compile_gate_destroy(struct compile_gate *g)
{
	sem_destroy(&g->places);
}

bool compile_gate_enter(struct compile_gate *g, int64_t *waited_ms)
{
	int64_t t0 = mono_ms();
	struct timespec deadline;
	int rc;

	*waited_ms = 0;
	if (!g)
		return false;
	/* On the monotonic clock: a wall-clock step must neither hold a slot
	 * at the gate nor wave it through. */
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	int64_t ns = deadline.tv_nsec + g->max_wait_ms % 1000 * 1000000;
	deadline.tv_sec += (time_t)(g->max_wait_ms / 1000 + ns / 1000000000);
	deadline.tv_nsec = (long)(ns % 1000000000);
	while ((rc = sem_clockwait(&g->places, CLOCK_MONOTONIC, &deadline)) < 0 && errno == EINTR)
		;
	*waited_ms = mono_ms() - t0;
	return rc == 0;
}

void compile_gate_leave(struct compile_gate *g)
{
	sem_post(&g->places);
}
