/*
 * libfcgi streams and environments in memory, for driving fcgi_app's
 * request code without a FastCGI connection (unit tests and the
 * fuzz_request target).
 */
#ifndef TESTS_MEM_STREAM_H
#define TESTS_MEM_STREAM_H

#include <stddef.h>
#include <fcgiapp.h>

/* A reader of buf[0..len); a read past the end comes back short. */
void mem_reader_init(FCGX_Stream *s, const void *buf, size_t len);

/*
 * A writer into buf[0..cap). When buf is full the writer starts again at
 * its beginning (what a long reply's head was is then lost): give it
 * room for the whole reply when the output matters.
 */
void mem_writer_init(FCGX_Stream *s, void *buf, size_t cap);

/* Bytes written since mem_writer_init (or the last wrap). */
size_t mem_writer_len(const FCGX_Stream *s, const void *buf);

/*
 * A FastCGI environment holding copies of vars ("NAME=value", up to a NULL).
 * Static: valid until the next call.
 */
FCGX_ParamArray mem_env(const char *const *vars);
#define MEM_ENV(...) mem_env((const char *const[]){ __VA_ARGS__, NULL })

#endif
