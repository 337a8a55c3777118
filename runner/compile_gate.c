/* The compile gate (compile_gate.h): a counting semaphore with a deadline. */
#include "compile_gate.h"

#include <errno.h>
#include <time.h>

#include "util.h"

int compile_gate_init(struct compile_gate *g, int places, int64_t max_wait_ms)
{
	pthread_condattr_t attr;
	int rc;

	g->free = places > 0 ? places : 1;
	g->max_wait_ms = max_wait_ms > 0 ? max_wait_ms : 0;
	if ((rc = pthread_mutex_init(&g->mu, NULL)) != 0)
		return -rc;
	/* The deadline is on the monotonic clock: a wall-clock step must not
	 * hold a slot at the gate, nor wave it through. */
	if ((rc = pthread_condattr_init(&attr)) != 0 ||
	    (rc = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC)) != 0 ||
	    (rc = pthread_cond_init(&g->freed, &attr)) != 0) {
		pthread_mutex_destroy(&g->mu);
		return -rc;
	}
	pthread_condattr_destroy(&attr);
	return 0;
}

void compile_gate_destroy(struct compile_gate *g)
{
	pthread_cond_destroy(&g->freed);
	pthread_mutex_destroy(&g->mu);
}

bool compile_gate_enter(struct compile_gate *g, int64_t *waited_ms)
{
	int64_t t0 = mono_ms();
	struct timespec deadline;
	bool held;

	*waited_ms = 0;
	if (!g)
		return false;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += g->max_wait_ms / 1000;
	deadline.tv_nsec += (g->max_wait_ms % 1000) * 1000000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	pthread_mutex_lock(&g->mu);
	while (g->free == 0 && pthread_cond_timedwait(&g->freed, &g->mu, &deadline) != ETIMEDOUT)
		;
	held = g->free > 0;
	if (held)
		g->free--;
	pthread_mutex_unlock(&g->mu);
	*waited_ms = mono_ms() - t0;
	return held;
}

void compile_gate_leave(struct compile_gate *g)
{
	pthread_mutex_lock(&g->mu);
	g->free++;
	pthread_cond_signal(&g->freed);
	pthread_mutex_unlock(&g->mu);
}
