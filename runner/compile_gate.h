/*
 * How many compiles (and checks) of one runner use the CPU at once.
 *
 * Compilers are CPU-bound. Eight slots compiling at once on two CPUs give
 * each compiler a quarter of one, so all eight take four times as long and
 * the slowest (tsc, javac) pass compile_wall_time_ms, which is wall time:
 * every learner gets COMPILE_TIMEOUT where the host could have finished
 * each compile in its limit one pair at a time. The gate lets compile_slots
 * compiles through and holds the others; a compile's clock starts when it
 * passes.
 *
 * The wait is bounded: a claim's lease covers one compile and one run plus
 * lease_grace_ms, so a slot waits at most half of that grace and then
 * compiles anyway (the compile then shares the CPU as it did without a
 * gate). The lease never expires under a slot that is only queuing.
 */
#ifndef RUNNER_COMPILE_GATE_H
#define RUNNER_COMPILE_GATE_H
#include <semaphore.h>
#include <stdbool.h>
#include <stdint.h>

struct compile_gate {
	sem_t places;                   /* places not taken */
	int64_t max_wait_ms;
};

/* places: compiles at once (>= 1); max_wait_ms: the longest a slot waits. */
int compile_gate_init(struct compile_gate *g, int places, int64_t max_wait_ms);
void compile_gate_destroy(struct compile_gate *g);

/*
 * Waits for a place, at most max_wait_ms. Returns true when the caller
 * holds one (it must call compile_gate_leave), false when the wait ran out
 * and the caller goes ahead without one. *waited_ms: the time it waited.
 * A NULL gate lets everyone through at once.
 */
bool compile_gate_enter(struct compile_gate *g, int64_t *waited_ms);
void compile_gate_leave(struct compile_gate *g);

#endif
