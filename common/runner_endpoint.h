/* Where the runner's ZeroMQ PULL socket lives: ipc://<data_dir>/runner.sock. */
#ifndef ENGINE_RUNNER_ENDPOINT_H
#define ENGINE_RUNNER_ENDPOINT_H

#include <stddef.h>

#include "config.h"

/* Writes the endpoint into out. Returns 0, or -1 if it does not fit. */
int runner_endpoint(const struct config *cfg, char *out, size_t outlen);

#endif
