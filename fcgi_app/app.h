/* The state one fcgi_app process keeps between requests. */
#ifndef FCGI_APP_H
#define FCGI_APP_H

#include "auth.h"
#include "config.h"
#include "languages.h"
#include "store.h"

struct app {
	struct config cfg;
	struct language_table langs;    /* the table read at start: what sessions may use */
	struct store *store;            /* NULL while the store cannot be opened */
	struct auth *auth;              /* who may call: the token verifier, or auth = none */
	void *zmq_ctx;
	void *push;                     /* ZeroMQ PUSH to the runner; NULL if unavailable */
};

#endif
