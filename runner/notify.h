/*
 * The systemd readiness protocol (sd_notify(3)) without libsystemd: one
 * datagram to $NOTIFY_SOCKET. The runner unit is Type=notify, so units
 * ordered after it start only once its self-test passed and it serves.
 */
#ifndef RUNNER_NOTIFY_H
#define RUNNER_NOTIFY_H

/* Sends state ("READY=1", "STOPPING=1", "STATUS=...") if systemd asked for it; a no-op otherwise. */
void notify_systemd(const char *state);

#endif
