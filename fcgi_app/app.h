/* The state one fcgi_app process keeps between requests. */
#ifndef FCGI_APP_H
#define FCGI_APP_H

#include <sqlite3.h>

#include "config.h"
#include "db.h"

struct app {
	struct config cfg;
	sqlite3 *db;                    /* NULL while the store cannot be opened */
	sqlite3_stmt *stmt[STMT__MAX];
	void *zmq_ctx;
	void *push;                     /* ZeroMQ PUSH to the runner; NULL if unavailable */
};

#endif
