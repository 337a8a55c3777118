/*
 * The job message sent from fcgi_app to the runner over ZeroMQ: a wake-up
 * that names one execution. It carries no state; SQLite is the truth, so a
 * lost or duplicated message is harmless.
 */
#ifndef ENGINE_JOB_H
#define ENGINE_JOB_H

#include <stddef.h>

#include "util.h"

#define JOB_PREFIX "exec1 "
#define JOB_MSG_LEN (sizeof(JOB_PREFIX) - 1 + UUID_LEN)

/* Writes the message for execution id into out (JOB_MSG_LEN bytes, no NUL). */
void job_encode(const char *execution_id, char out[JOB_MSG_LEN]);

/* Parses a received message. Returns 0 and the id (with NUL), or -1. */
int job_decode(const void *msg, size_t len, char id[UUID_LEN + 1]);

#endif
