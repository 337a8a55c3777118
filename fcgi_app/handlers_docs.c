/* /openapi.json, /docs and / (the playground): static files of the web server, not of fcgi_app. */
#include "handlers.h"

/*
 * lighttpd answers GET and HEAD of these paths from $(BUILD)/www and sends
 * only other methods here (405 before this is called). A GET that does
 * reach fcgi_app means the front end lacks that mapping: say so.
 */
void static_elsewhere(struct app *app, struct request *req, struct response *res)
{
	(void)app;
	reply_error(res, ERR_NOT_FOUND, NULL,
		    "%s is a static file of the web server, which does not serve it here", req->path);
}
