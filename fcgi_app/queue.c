#include "queue.h"

#include <errno.h>
#include <stdio.h>
#include <zmq.h>

#include "app.h"
#include "wake.h"
#include "log.h"
#include "runner_endpoint.h"
#include "store.h"

int queue_open(struct app *app)
{
	char endpoint[CONFIG_PATH_MAX + 32];
	if (runner_endpoint(&app->cfg, endpoint, sizeof(endpoint))) {
		log_error("queue: data_dir too long for an ipc endpoint");
		return -1;
	}
	app->zmq_ctx = zmq_ctx_new();
	app->push = app->zmq_ctx ? zmq_socket(app->zmq_ctx, ZMQ_PUSH) : NULL;
	if (!app->push) {
		log_error("queue: cannot create socket: %s", zmq_strerror(errno));
		return -1;
	}
	/* Unsent messages are worthless after exit: the sweep re-finds the rows. */
	int linger = 0, immediate = 1, hwm = 10000;
	zmq_setsockopt(app->push, ZMQ_LINGER, &linger, sizeof(linger));
	zmq_setsockopt(app->push, ZMQ_IMMEDIATE, &immediate, sizeof(immediate));
	zmq_setsockopt(app->push, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	if (zmq_connect(app->push, endpoint) != 0) {
		log_error("queue: connect %s: %s", endpoint, zmq_strerror(errno));
		return -1;
	}
	return 0;
}

void queue_push(struct app *app, const char *execution_id)
{
	char msg[WAKE_MSG_LEN];

	if (!app->push || (app->store && store_notify_available(app->store)))
		return;
	wake_encode(execution_id, msg);
	if (zmq_send(app->push, msg, sizeof(msg), ZMQ_DONTWAIT) < 0)
		log_debug("queue: %s not sent (%s); the runner's sweep will find it",
			  execution_id, zmq_strerror(errno));
}

void queue_notify(struct app *app, const char *execution_id)
{
	/* A store that several hosts share carries the wake-up to runners on
	 * every host; ZeroMQ reaches only the runner of this data_dir. */
	if (app->store && store_notify_available(app->store)) {
		if (store_notify(app->store, STORE_CHANNEL_WAKE, execution_id))
			log_debug("queue: wake-up for %s not sent (%s); idle runners poll the queue",
				  execution_id, store_errmsg(app->store));
		return;
	}
	queue_push(app, execution_id);
}

void queue_close(struct app *app)
{
	if (app->push)
		zmq_close(app->push);
	if (app->zmq_ctx)
		zmq_ctx_term(app->zmq_ctx);
	app->push = app->zmq_ctx = NULL;
}
