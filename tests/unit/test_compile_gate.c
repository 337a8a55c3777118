/* The compile gate (runner/compile_gate.c) with real threads. */
#include "check.h"
#include "compile_gate.h"
#include "util.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct holder {
	struct compile_gate *gate;
	atomic_int *inside, *most;
	bool held;
};

/* Takes a place, stays 50 ms, and records how many were inside at once. */
static void *hold_a_while(void *arg)
{
	struct holder *h = arg;
	int64_t waited;

	h->held = compile_gate_enter(h->gate, &waited);
	int now = atomic_fetch_add(h->inside, 1) + 1;
	int most = atomic_load(h->most);
	while (now > most && !atomic_compare_exchange_weak(h->most, &most, now))
		;
	usleep(50 * 1000);
	atomic_fetch_sub(h->inside, 1);
	if (h->held)
		compile_gate_leave(h->gate);
	return NULL;
}

TEST(compile_gate_lets_its_places_through_and_holds_the_rest)
{
	struct compile_gate g;
	atomic_int inside = 0, most = 0;
	pthread_t t[6];
	struct holder h[6];

	REQUIRE(compile_gate_init(&g, 2, 10000) == 0);
	for (int i = 0; i < 6; i++) {
		h[i] = (struct holder){ &g, &inside, &most, false };
		REQUIRE(pthread_create(&t[i], NULL, hold_a_while, &h[i]) == 0);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(t[i], NULL);
	CHECK(atomic_load(&most) == 2);
	for (int i = 0; i < 6; i++)
		CHECK(h[i].held);
	compile_gate_destroy(&g);
}

TEST(compile_gate_waves_a_slot_through_when_its_wait_runs_out)
{
	struct compile_gate g;
	int64_t waited, t0;

	REQUIRE(compile_gate_init(&g, 1, 80) == 0);
	REQUIRE(compile_gate_enter(&g, &waited));
	CHECK(waited < 80);
	t0 = mono_ms();
	CHECK(!compile_gate_enter(&g, &waited));        /* the one place is taken */
	CHECK(waited >= 80 && mono_ms() - t0 >= 80);
	compile_gate_leave(&g);
	REQUIRE(compile_gate_enter(&g, &waited));       /* free again at once */
	CHECK(waited < 80);
	compile_gate_leave(&g);
	compile_gate_destroy(&g);
}

TEST(compile_gate_absent_lets_everyone_through)
{
	int64_t waited = -1;

	CHECK(!compile_gate_enter(NULL, &waited));
	CHECK(waited == 0);
}
