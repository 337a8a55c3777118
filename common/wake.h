/*
 * The wake-up message sent from fcgi_app to the runner over ZeroMQ: it
 * names one execution that is waiting. It carries no state; the store is
 * the truth, so a lost or duplicated message is harmless.
 */
#ifndef ENGINE_WAKE_H
#define ENGINE_WAKE_H

#include <stddef.h>

#include "util.h"

#define WAKE_PREFIX "exec1 "
#define WAKE_MSG_LEN (sizeof(WAKE_PREFIX) - 1 + UUID_LEN)

/* Writes the message for execution id into out (WAKE_MSG_LEN bytes, no NUL). */
void wake_encode(const char *execution_id, char out[WAKE_MSG_LEN]);

/* Parses a received message. Returns 0 and the id (with NUL), or -1. */
int wake_decode(const void *msg, size_t len, char id[UUID_LEN + 1]);

#endif
