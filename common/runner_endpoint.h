/*
 * Where the sockets between the programs live, all in data_dir: the
 * runner's ZeroMQ PULL socket (ipc://<data_dir>/runner.sock), the events
 * program's SUB socket that runners publish live events to
 * (ipc://<data_dir>/events.sock) and its HTTP socket that the web server
 * proxies to (<data_dir>/events-http.sock).
 */
#ifndef ENGINE_RUNNER_ENDPOINT_H
#define ENGINE_RUNNER_ENDPOINT_H

#include <stddef.h>

#include "config.h"

/* Writes the endpoint into out. Returns 0, or -1 if it does not fit. */
int runner_endpoint(const struct config *cfg, char *out, size_t outlen);
int events_endpoint(const struct config *cfg, char *out, size_t outlen);
/* A unix socket path (no ipc:// prefix). */
int events_http_path(const struct config *cfg, char *out, size_t outlen);

#endif
