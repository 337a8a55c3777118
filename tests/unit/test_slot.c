/* Unit tests of how a sandbox's report becomes the execution's status and error. */
#include <signal.h>
#include <stdio.h>

#include "check.h"
#include "slot.h"

static const struct sandbox_limits limits = {
	.wall_time_ms = 5000, .cpu_time_ms = 5000, .memory_mb = 256, .max_output_bytes = 65536,
};

static struct outcome map(enum sandbox_outcome what, int exit_code, int sig)
{
	static char out[] = "o";
	struct sandbox_result res = { .outcome = what, .exit_code = exit_code, .signal = sig,
				      .out = out, .out_len = 1, .wall_ms = 12, .cpu_ms = 9,
				      .setup_ms = 3, .memory_kb = 8000 };
	struct outcome o;
	snprintf(res.message, sizeof(res.message), "mount /proc: Operation not permitted");
	outcome_from_result(&res, &limits, &o);
	return o;
}

TEST(slot_exit_zero_is_completed_without_error)
{
	struct outcome o = map(SANDBOX_EXITED, 0, 0);
	CHECK_STR(o.status, "COMPLETED");
	CHECK(o.error_code == NULL);
	CHECK(o.has_exit_code && o.exit_code == 0);
	CHECK(o.wall_ms == 12 && o.cpu_ms == 9 && o.setup_ms == 3 && o.memory_kb == 8000);
	CHECK(o.out_len == 1);
}

TEST(slot_nonzero_exit_is_a_runtime_error)
{
	struct outcome o = map(SANDBOX_EXITED, 3, 0);
	CHECK_STR(o.status, "FAILED");
	CHECK_STR(o.error_code, "RUNTIME_ERROR");
	CHECK_STR(o.error_message, "the program exited with status 3");
	CHECK(o.exit_code == 3);
}

TEST(slot_signal_is_a_runtime_error_and_sigxcpu_a_timeout)
{
	struct outcome o = map(SANDBOX_SIGNALED, 0, SIGSEGV);
	CHECK_STR(o.status, "FAILED");
	CHECK_STR(o.error_code, "RUNTIME_ERROR");
	CHECK(o.signal == SIGSEGV && !o.has_exit_code);
	o = map(SANDBOX_SIGNALED, 0, SIGXCPU);
	CHECK_STR(o.status, "TIMEOUT");
	CHECK_STR(o.error_code, "TIMEOUT");
	CHECK_STR(o.error_message, "the program used more than 5000 ms of CPU time");
}

TEST(slot_limits_map_to_their_error_codes)
{
	struct outcome o = map(SANDBOX_TIMEOUT, 0, SIGKILL);
	CHECK_STR(o.status, "TIMEOUT");
	CHECK_STR(o.error_message, "the program ran longer than 5000 ms and was stopped");
	o = map(SANDBOX_OUTPUT_LIMIT, 0, SIGKILL);
	CHECK_STR(o.status, "FAILED");
	CHECK_STR(o.error_code, "OUTPUT_LIMIT");
	o = map(SANDBOX_MEMORY_LIMIT, 0, SIGKILL);
	CHECK_STR(o.status, "FAILED");
	CHECK_STR(o.error_code, "MEMORY_LIMIT");
	CHECK_STR(o.error_message, "the program used more than 256 MiB of memory");
}

TEST(slot_setup_failure_is_a_sandbox_error_with_the_reason)
{
	struct outcome o = map(SANDBOX_SETUP_FAILED, 0, 0);
	CHECK_STR(o.status, "FAILED");
	CHECK_STR(o.error_code, "SANDBOX_ERROR");
	CHECK_STR(o.error_message, "the sandbox could not be built: mount /proc: Operation not permitted");
}
