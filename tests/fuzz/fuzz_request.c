/*
 * One whole request through fcgi_app's front half: http_request_parse on a
 * FastCGI environment built from the input, route_dispatch (route match,
 * method, id, Content-Length, Content-Type, bounded body read) and
 * http_send. The store is closed, so a request that passes the checks made
 * before the store ends in 503 STORE_UNAVAILABLE: no handler writes. The input is
 * "METHOD\nURI\nCONTENT_TYPE\nCONTENT_LENGTH\nbody".
 */
#include <string.h>
#include <fcgiapp.h>

#include "app.h"
#include "errors.h"
#include "fuzz.h"
#include "http.h"
#include "mem_stream.h"
#include "routes.h"

#define NPARAMS 4

static const char *const param_names[NPARAMS] = {
	"REQUEST_METHOD=", "REQUEST_URI=", "CONTENT_TYPE=", "CONTENT_LENGTH=",
};

static unsigned char out_buf[4096];

/* Splits the input into the environment; returns where the body starts. */
static size_t build_env(const uint8_t *data, size_t size, char *store, char **envp)
{
	size_t pos = 0, n = 0;
	for (int i = 0; i < NPARAMS; i++) {
		const uint8_t *nl = memchr(data + pos, '\n', size - pos);
		size_t len = nl ? (size_t)(nl - (data + pos)) : size - pos;
		envp[n++] = store;
		store += sprintf(store, "%s", param_names[i]);
		memcpy(store, data + pos, len);
		store[len] = '\0';      /* a NUL in the input ends the value, as in a real environment */
		store += len + 1;
		pos += len + (nl != NULL);
	}
	envp[n] = NULL;
	return pos;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct app app;
	static char store[16384];
	char *envp[NPARAMS + 1];
	if (size > 8192)
		return 0;
	config_defaults(&app.cfg);
	app.cfg.max_body_bytes = 1024;
	size_t body = build_env(data, size, store, envp);

	FCGX_Stream in, out;
	mem_reader_init(&in, data + body, size - body);
	mem_writer_init(&out, out_buf, sizeof(out_buf));
	struct request req;
	struct response res = { .status = 500 };
	if (http_request_parse(&req, envp) == 0)
		route_dispatch(&app, &req, &in, &res);
	else
		reply_error(&res, ERR_NOT_FOUND, NULL, "the request path is too long");
	/* Without a store nothing succeeds; bad input is 4xx, never another 5xx. */
	FUZZ_ASSERT(res.status >= 400 && (res.status < 500 || res.status == 503));
	FUZZ_ASSERT(res.status != 405 || res.allow);
	http_send(&res, &out);
	http_request_free(&req);
	return 0;
}
