/*
 * Cross-origin requests from browsers (CORS) for the origins listed in
 * allowed_origins, and the headers every API response carries. The
 * engine's credential is a bearer token, never a cookie: no response allows
 * credentials, and none names "*"; an origin not listed gets no CORS header
 * at all, so the browser keeps the response from its page.
 */
#ifndef ENGINE_CORS_H
#define ENGINE_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_MAX_AGE 600                /* seconds a browser may reuse a preflight's answer */
/* What a listed origin's page may send, beyond the CORS-safelisted ones. */
#define CORS_ALLOW_HEADERS "Authorization, Content-Type, Last-Event-ID, X-Request-Id"
/* What its scripts may read of a response, beyond the safelisted ones. */
#define CORS_EXPOSE_HEADERS "Location, Retry-After, WWW-Authenticate, X-Request-Id"

/* True if origin (the Origin header; NULL when absent) is one of the space-separated list. */
bool cors_allowed(const char *list, const char *origin);

/*
 * Appends the CORS header lines ("Name: value\r\n") for a response to
 * origin, to out (NUL-terminated, at most outlen bytes): none when origin is
 * not allowed. methods: for a preflight, the methods of the path (its
 * Allow), else NULL. Returns the length written.
 */
size_t cors_headers(const char *list, const char *origin, const char *methods, char *out, size_t outlen);

#endif
