#include "runner_endpoint.h"

#include <stdio.h>
#include <string.h>

/* The kernel caps unix socket paths at 107 bytes. */
static int socket_path(const struct config *cfg, const char *prefix, const char *name,
		       char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "%s%s/%s", prefix, cfg->data_dir, name);
	return n < 0 || (size_t)n >= outlen || (size_t)n > strlen(prefix) + 107 ? -1 : 0;
}

int runner_endpoint(const struct config *cfg, char *out, size_t outlen)
{
	return socket_path(cfg, "ipc://", "runner.sock", out, outlen);
}

int events_endpoint(const struct config *cfg, char *out, size_t outlen)
{
	return socket_path(cfg, "ipc://", "events.sock", out, outlen);
}

int events_http_path(const struct config *cfg, char *out, size_t outlen)
{
	return socket_path(cfg, "", "events-http.sock", out, outlen);
}
