/* The route table: path shapes, their methods and handlers. */
#ifndef FCGI_ROUTES_H
#define FCGI_ROUTES_H

#include <fcgiapp.h>

#include "app.h"
#include "http.h"

/*
 * Answers one request: finds the route, checks method, id, body size and
 * Content-Type, reads the body, validates the body's fields and the query's
 * parameters as the route's method declares them (into req->input and
 * req->params), and calls the handler. Always sets a reply.
 */
void route_dispatch(struct app *app, struct request *req, FCGX_Stream *in, struct response *res);

#endif
