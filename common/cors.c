/* CORS header lines, shared by fcgi_app and the events program. */
#include "cors.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

bool cors_allowed(const char *list, const char *origin)
{
	return str_word_listed(list, origin);
}

size_t cors_headers(const char *list, const char *origin, const char *methods, char *out, size_t outlen)
{
	int n;
	out[0] = '\0';
	if (!cors_allowed(list, origin))
		return 0;
	/* Vary: a cache must not hand one origin's answer to another. */
	if (methods)
		n = snprintf(out, outlen, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
			     "Access-Control-Allow-Methods: %s\r\nAccess-Control-Allow-Headers: %s\r\n"
			     "Access-Control-Max-Age: %d\r\n", origin, methods, CORS_ALLOW_HEADERS, CORS_MAX_AGE);
	else
		n = snprintf(out, outlen, "Access-Control-Allow-Origin: %s\r\nVary: Origin\r\n"
			     "Access-Control-Expose-Headers: %s\r\n", origin, CORS_EXPOSE_HEADERS);
	if (n < 0 || (size_t)n >= outlen) {
		out[0] = '\0';          /* never half a header */
		return 0;
	}
	return (size_t)n;
}
