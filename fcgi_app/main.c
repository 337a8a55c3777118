/*
 * fcgi_app: the REST API as a FastCGI responder. lighttpd (or Apache)
 * spawns a pool of these with the listening socket on fd 0; each process
 * answers one request at a time with its own store connection and ZeroMQ
 * PUSH socket, both opened once.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <fcgiapp.h>

#include "app.h"
#include "cors.h"
#include "errors.h"
#include "log.h"
#include "validate.h"
#include "queue.h"
#include "routes.h"
#include "version.h"

/* Opens the store if it is not open; a failure is retried on the next request. */
static void store_ensure(struct app *app)
{
	char err[256];
	if (app->store)
		return;
	app->store = store_open(&app->cfg, STORE_ROLE_API, err, sizeof(err));
	if (!app->store)
		log_error("store unavailable: %s", err);
}

static void serve_one(struct app *app, FCGX_Request *fr)
{
	struct request req;
	struct response res = { .status = 500 };

	int bad_uri = http_request_parse(&req, fr->envp);
	log_set_request(req.request_id);
	res.request_id = req.request_id;
	store_ensure(app);
	if (bad_uri)
		reply_error(&res, ERR_NOT_FOUND, NULL, "the request path is too long");
	else
		route_dispatch(app, &req, fr->in, &res);
	if (res.status >= 500 && res.status != 503)
		log_error("%s %s: status %d", req.method, req.path, res.status);
	else if (res.status == 503)
		log_warn("%s %s: status 503 (retry after %d s)", req.method, req.path, res.retry_after);
	else
		log_debug("%s %s: status %d", req.method, req.path, res.status);
	cors_headers(app->cfg.allowed_origins, req.origin, res.preflight_allow, res.cors, sizeof(res.cors));
	http_send(&res, fr->out);
	http_request_free(&req);
	log_set_request(NULL);
}

/*
 * Under lighttpd's bin-path the pool must not outlive a killed lighttpd:
 * orphans would hold the store open and serve nobody. Opt-in, because with
 * spawn-fcgi the parent exits on purpose right after spawning.
 * ENGINE_EXIT_WITH_PARENT is the spawning server's pid (lighttpd.conf passes
 * var.PID), or "1" when it is not known (Apache). A process spawned just as
 * its server died has already been adopted by init or a subreaper: with the
 * pid that is certain to be noticed, with "1" only when init adopted it.
 */
static void exit_with_parent(void)
{
	const char *v = getenv("ENGINE_EXIT_WITH_PARENT");
	pid_t parent = getppid();
	long expected;
	char *end;

	if (!v || !*v)
		return;
	expected = strtol(v, &end, 10);
	if (*end || expected < 1)
		return;
	if (parent == 1 || (expected > 1 && parent != expected))
		_exit(0);
	/* SIGKILL, not SIGTERM: libfcgi turns SIGTERM into a flag it reads only
	 * when accept() is interrupted, so one that lands between FCGX_Init and
	 * accept() is lost and the process would wait for a connection forever.
	 * With the server gone no client is left, and a SQLite transaction is
	 * atomic, so nothing half-done can follow. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(0);
}

static int load_languages(struct app *app, char *err, size_t errlen)
{
	char path[CONFIG_PATH_MAX];

	if (config_languages_path(&app->cfg, config_default_path(), path, sizeof(path))) {
		snprintf(err, errlen, "languages_file: path too long");
		return -1;
	}
	if (languages_load(&app->langs, path, err, errlen))
		return -1;
	validate_set_languages(&app->langs);
	return 0;
}

int main(int argc, char **argv)
{
	static struct app app;
	char err[512];

	if (argc > 1) {     /* the web server starts it without arguments */
		if (strcmp(argv[1], "--version") == 0) {
			printf("fcgi_app %s (schema version %d)\n", ENGINE_VERSION, store_schema_version);
			return 0;
		}
		fprintf(stderr, "usage: fcgi_app [--version] (spawned by the web server, configured by "
			"$ENGINE_CONFIG)\n");
		return 2;
	}
	config_defaults(&app.cfg);
	if (config_load(&app.cfg, config_default_path(), err, sizeof(err))) {
		fprintf(stderr, "fcgi_app: %s\n", err);
		return 1;
	}
	if (load_languages(&app, err, sizeof(err)) || !(app.auth = auth_new(&app.cfg, err, sizeof(err)))) {
		fprintf(stderr, "fcgi_app: %s\n", err);
		return 1;
	}
	log_init("fcgi_app", app.cfg.log_level);
	exit_with_parent();
	/* A client that hangs up must cost a failed write, not the process. */
	signal(SIGPIPE, SIG_IGN);
	store_ensure(&app);
	queue_open(&app);

	FCGX_Request fr;
	if (FCGX_Init() != 0 || FCGX_InitRequest(&fr, 0, 0) != 0) {
		log_error("cannot initialise FastCGI");
		return 1;
	}
	while (FCGX_Accept_r(&fr) >= 0) {
		serve_one(&app, &fr);
		FCGX_Finish_r(&fr);
	}
	queue_close(&app);
	store_close(&app.store);
	languages_free(&app.langs);
	auth_free(&app.auth);
	return 0;
}
