#include "runner_endpoint.h"

#include <stdio.h>

int runner_endpoint(const struct config *cfg, char *out, size_t outlen)
{
	/* The kernel caps unix socket paths at 107 bytes plus "ipc://". */
	int n = snprintf(out, outlen, "ipc://%s/runner.sock", cfg->data_dir);
	return n < 0 || (size_t)n >= outlen || n > 6 + 107 ? -1 : 0;
}
