/*
 * The fast path to the runners: a non-blocking ZeroMQ PUSH of the wake-up
 * message to the runner of this data_dir, or, when the store carries
 * wake-ups (PostgreSQL, shared by hosts), a NOTIFY that every runner on
 * every host hears.
 */
#ifndef FCGI_QUEUE_H
#define FCGI_QUEUE_H

struct app;

/* Connects the PUSH socket to the runner's endpoint. Returns 0, or -1 (logged). */
int queue_open(struct app *app);

/*
 * Tells a runner that execution_id is queued. Never blocks; a failure only
 * delays the run until the runner's sweep finds the row.
 */
void queue_notify(struct app *app, const char *execution_id);

/*
 * queue_notify for an execution whose commit already told the store's
 * listeners (store_commit_notify): the ZeroMQ message where the store
 * carries no wake-ups, nothing where it does.
 */
void queue_push(struct app *app, const char *execution_id);

void queue_close(struct app *app);

#endif
