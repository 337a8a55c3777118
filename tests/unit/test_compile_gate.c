/* The compile gate (runner/compile_gate.c), its waits on real threads. */
#include "check.h"
#include "compile_gate.h"

#include <pthread.h>
#include <unistd.h>

TEST(compile_gate_lets_its_places_through_and_waves_the_next_through_when_its_wait_runs_out)
{
	struct compile_gate g;
	int64_t waited;

	REQUIRE(compile_gate_init(&g, 2, 80) == 0);
	CHECK(compile_gate_enter(&g, &waited));
	CHECK(compile_gate_enter(&g, &waited));
	CHECK(waited < 80);
	CHECK(!compile_gate_enter(&g, &waited));        /* both places taken */
	CHECK(waited >= 80);
	compile_gate_leave(&g);
	CHECK(compile_gate_enter(&g, &waited));         /* free again at once */
	CHECK(waited < 80);
	compile_gate_leave(&g);
	compile_gate_leave(&g);
	compile_gate_destroy(&g);
}

struct waiter {
	struct compile_gate *gate;
	bool held;
	int64_t waited;
};

static void *wait_for_a_place(void *arg)
{
	struct waiter *w = arg;

	w->held = compile_gate_enter(w->gate, &w->waited);
	return NULL;
}

TEST(compile_gate_a_leaving_compile_lets_a_waiting_one_in)
{
	struct compile_gate g;
	struct waiter w = { &g, false, 0 };
	int64_t waited;
	pthread_t t;

	REQUIRE(compile_gate_init(&g, 1, 10000) == 0);
	REQUIRE(compile_gate_enter(&g, &waited));
	REQUIRE(pthread_create(&t, NULL, wait_for_a_place, &w) == 0);
	usleep(50 * 1000);
	compile_gate_leave(&g);
	pthread_join(t, NULL);
	CHECK(w.held);
	CHECK(w.waited >= 40 && w.waited < 10000);
	compile_gate_leave(&g);
	compile_gate_destroy(&g);
}

TEST(compile_gate_absent_lets_everyone_through)
{
	int64_t waited = -1;

	CHECK(!compile_gate_enter(NULL, &waited));
	CHECK(waited == 0);
}
