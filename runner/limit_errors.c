/* Failed cgroup and rlimit operations, logged and counted (see limit_errors.h). */
#include "limit_errors.h"
#include "log.h"

#include <stdatomic.h>
#include <string.h>

static atomic_long count;

void limit_error(const char *what, const char *detail, int err)
{
	char buf[128];

	atomic_fetch_add(&count, 1);
	log_warn("sandbox limits: %s%s%s: %s", what, detail ? " " : "", detail ? detail : "",
		 err ? strerror_r(err, buf, sizeof buf) : "failed");
}

long limit_errors(void)
{
	return atomic_load(&count);
}
