#include "mem_stream.h"

#include <string.h>

/* Called by libfcgi when the buffer is used up: there is no more. */
static void reader_end(FCGX_Stream *s)
{
	s->isClosed = 1;
}

/* Not closed from the start: libfcgi returns nothing at all from a closed stream. */
void mem_reader_init(FCGX_Stream *s, const void *buf, size_t len)
{
	memset(s, 0, sizeof(*s));
	s->rdNext = s->stopUnget = (unsigned char *)buf;
	s->wrNext = s->stop = (unsigned char *)buf + len;
	s->isReader = 1;
	s->fillBuffProc = reader_end;
}

/* Called by libfcgi when the buffer is full, and on close. */
static void writer_wrap(FCGX_Stream *s, int closing)
{
	(void)closing;
	s->wrNext = s->data;
}

void mem_writer_init(FCGX_Stream *s, void *buf, size_t cap)
{
	memset(s, 0, sizeof(*s));
	s->data = s->wrNext = buf;
	s->rdNext = s->stop = (unsigned char *)buf + cap;
	s->emptyBuffProc = writer_wrap;
}

size_t mem_writer_len(const FCGX_Stream *s, const void *buf)
{
	return (size_t)(s->wrNext - (const unsigned char *)buf);
}

FCGX_ParamArray mem_env(const char *const *vars)
{
	static char text[8192];
	static char *env[32];
	size_t used = 0;
	int n = 0;
	for (; vars[n] && n < 31; n++) {
		size_t len = strlen(vars[n]) + 1;
		if (used + len > sizeof(text))
			break;
		env[n] = memcpy(text + used, vars[n], len);
		used += len;
	}
	env[n] = NULL;
	return env;
}
