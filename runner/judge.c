/* The verdict of one case (judge.h). */
#include "judge.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SPACE " \t\r\n\v\f"

/* The next whitespace-separated token of [*p, end): its start and length; false at the end. */
static bool next_token(const char **p, const char *end, const char **tok, size_t *len)
{
	while (*p < end && strchr(SPACE, **p) && **p)
		(*p)++;
	if (*p >= end)
		return false;
	*tok = *p;
	while (*p < end && !(strchr(SPACE, **p) && **p))
		(*p)++;
	*len = (size_t)(*p - *tok);
	return true;
}

/* A whole token as a finite number. */
static bool token_number(const char *tok, size_t len, double *out)
{
	char buf[64];
	char *end;
	if (len == 0 || len >= sizeof buf)
		return false;
	memcpy(buf, tok, len);
	buf[len] = '\0';
	*out = strtod(buf, &end);
	return *end == '\0' && isfinite(*out);
}

static bool tokens_equal(const char *a, size_t alen, const char *b, size_t blen, double tolerance)
{
	double x, y;
	if (alen == blen && memcmp(a, b, alen) == 0)
		return true;
	if (tolerance < 0 || !token_number(a, alen, &x) || !token_number(b, blen, &y))
		return false;
	return fabs(x - y) <= tolerance || fabs(x - y) <= tolerance * fabs(x);
}

/* tolerance < 0: tokens must be equal as text. */
static bool match_tokens(const char *e, size_t elen, const char *a, size_t alen, double tolerance)
{
	const char *pe = e, *pa = a, *te, *ta;
	size_t le, la;
	for (;;) {
		bool he = next_token(&pe, e + elen, &te, &le);
		bool ha = next_token(&pa, a + alen, &ta, &la);
		if (!he || !ha)
			return he == ha;
		if (!tokens_equal(te, le, ta, la, tolerance))
			return false;
	}
}

/* Length of the text once trailing whitespace (newlines included) is dropped. */
static size_t trimmed_end(const char *s, size_t len)
{
	while (len > 0 && strchr(SPACE, s[len - 1]) && s[len - 1])
		len--;
	return len;
}

/* One line of [*p, end) without its newline and trailing blanks; false at the end. */
static bool next_line(const char **p, const char *end, const char **line, size_t *len)
{
	if (*p >= end)
		return false;
	*line = *p;
	const char *nl = memchr(*p, '\n', (size_t)(end - *p));
	*p = nl ? nl + 1 : end;
	*len = trimmed_end(*line, (size_t)((nl ? nl : end) - *line));
	return true;
}

static bool match_trim(const char *e, size_t elen, const char *a, size_t alen)
{
	const char *pe = e, *pa = a, *le, *la;
	size_t ne, na;
	elen = trimmed_end(e, elen);
	alen = trimmed_end(a, alen);
	for (;;) {
		bool he = next_line(&pe, e + elen, &le, &ne);
		bool ha = next_line(&pa, a + alen, &la, &na);
		if (!he || !ha)
			return he == ha;
		if (ne != na || memcmp(le, la, ne) != 0)
			return false;
	}
}

bool judge_matches(const char *compare, const char *expected, size_t elen, const char *actual, size_t alen)
{
	static const char float_mode[] = "float_tolerance:";
	if (strcmp(compare, "exact") == 0)
		return elen == alen && memcmp(expected, actual, elen) == 0;
	if (strcmp(compare, "trim") == 0)
		return match_trim(expected, elen, actual, alen);
	if (strcmp(compare, "tokens") == 0)
		return match_tokens(expected, elen, actual, alen, -1);
	if (strncmp(compare, float_mode, sizeof float_mode - 1) == 0) {
		char *end;
		double tol = strtod(compare + sizeof float_mode - 1, &end);
		return *end == '\0' && tol >= 0 && match_tokens(expected, elen, actual, alen, tol);
	}
	return false;
}

/* The verdicts of runs that did not end with exit status 0, by error code. */
static const struct {
	const char *error_code;
	const char *verdict;
} failures[] = {
	{ "RUNTIME_ERROR", "RUNTIME_ERROR" },
	{ "OUTPUT_LIMIT", "RUNTIME_ERROR" },
	{ "TIMEOUT", "TIME_LIMIT" },
	{ "MEMORY_LIMIT", "MEMORY_LIMIT" },
	{ "COMPILE_ERROR", "COMPILE_ERROR" },
	{ "COMPILE_TIMEOUT", "COMPILE_ERROR" },
};

const char *judge_verdict(const struct outcome *o, const struct claim *cl)
{
	if (!o->error_code && strcmp(o->status, "COMPLETED") == 0)
		return judge_matches(cl->compare, cl->expected ? cl->expected : "", cl->expected_len,
				     o->out ? o->out : "", o->out_len) ? "ACCEPTED" : "WRONG_ANSWER";
	for (size_t i = 0; o->error_code && i < sizeof failures / sizeof failures[0]; i++)
		if (strcmp(o->error_code, failures[i].error_code) == 0)
			return failures[i].verdict;
	return NULL;
}
