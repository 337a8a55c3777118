#include "util.h"

#include <ctype.h>

#include <string.h>
#include <time.h>
#include <uuid.h>

int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void rfc3339(int64_t ms, char out[RFC3339_LEN])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	size_t n = strftime(out, RFC3339_LEN, "%Y-%m-%dT%H:%M:%S", &tm);
	int frac = (int)(ms % 1000);
	out[n++] = '.';
	out[n++] = (char)('0' + frac / 100);
	out[n++] = (char)('0' + frac / 10 % 10);
	out[n++] = (char)('0' + frac % 10);
	out[n++] = 'Z';
	out[n] = '\0';
}

void uuid_new(char out[UUID_LEN + 1])
{
	uuid_t u;
	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

bool uuid_valid(const char *s, size_t len)
{
	if (len != UUID_LEN)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}

/* Length of the well-formed sequence at p (up to end), or 0 if ill-formed. */
static size_t utf8_seq_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c = p[0];
	size_t n;
	unsigned char lo = 0x80, hi = 0xBF;

	if (c < 0x80)
		return 1;
	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF) {
		n = 3;
		if (c == 0xE0)
			lo = 0xA0;       /* overlong */
		if (c == 0xED)
			hi = 0x9F;       /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		n = 4;
		if (c == 0xF0)
			lo = 0x90;
		if (c == 0xF4)
			hi = 0x8F;       /* above U+10FFFF */
	} else
		return 0;
	if ((size_t)(end - p) < n)
		return 0;
	if (p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

bool utf8_valid(const char *buf, size_t len)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	while (p < end) {
		size_t n = utf8_seq_len(p, end);
		if (n == 0)
			return false;
		p += n;
	}
	return true;
}

size_t utf8_sanitize(const char *buf, size_t len, char *out)
{
	const unsigned char *p = (const unsigned char *)buf, *end = p + len;
	size_t o = 0;
	while (p < end) {
		size_t n = utf8_seq_len(p, end);
		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			p++;
			continue;
		}
		memcpy(out + o, p, n);
		o += n;
		p += n;
	}
	out[o] = '\0';
	return o;
}

char *str_trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

bool str_word_listed(const char *list, const char *word)
{
	size_t n = word ? strlen(word) : 0;
	if (n == 0)
		return false;
	for (const char *w = list + strspn(list, " "); *w; w += strcspn(w, " "), w += strspn(w, " "))
		if (strcspn(w, " ") == n && strncmp(w, word, n) == 0)
			return true;
	return false;
}
