#include "event_msg.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[EVENT__KINDS] = {
	[EVENT_STATUS] = "status", [EVENT_STDOUT] = "stdout",
	[EVENT_STDERR] = "stderr", [EVENT_DONE] = "done", [EVENT_ARTIFACT] = "artifact",
};

const char *event_kind_name(enum event_kind kind)
{
	return kind >= 0 && kind < EVENT__KINDS ? kind_names[kind] : "?";
}

int event_kind_parse(const char *name, size_t len)
{
	for (int k = 0; k < EVENT__KINDS; k++)
		if (strlen(kind_names[k]) == len && memcmp(kind_names[k], name, len) == 0)
			return k;
	return -1;
}

int event_msg_header(const struct event_msg *ev, char *out, size_t outlen)
{
	int n = snprintf(out, outlen, "ev1 %s %" PRId64 " %d %s %" PRId64 "\n", ev->execution_id,
			 ev->event_id, ev->attempt, event_kind_name(ev->kind), ev->offset);
	return n < 0 || (size_t)n >= outlen ? -1 : n;
}

/* A decimal number of at most 19 digits at *p, up to the next space or newline. */
static int take_number(const char **p, const char *end, char stop, int64_t *v)
{
	const char *s = *p;
	int64_t n = 0;
	int digits = 0;

	while (s < end && *s >= '0' && *s <= '9' && digits < 19) {
		n = n * 10 + (*s++ - '0');
		digits++;
	}
	if (!digits || s == end || *s != stop)
		return -1;
	*v = n;
	*p = s + 1;
	return 0;
}

int event_msg_decode(const void *frame, size_t len, struct event_msg *ev)
{
	const char *p = frame, *end = p + len;
	int64_t attempt;

	memset(ev, 0, sizeof *ev);
	if (len < 4 + UUID_LEN + 1 || memcmp(p, "ev1 ", 4) != 0 || !uuid_valid(p + 4, UUID_LEN) ||
	    p[4 + UUID_LEN] != ' ')
		return -1;
	memcpy(ev->execution_id, p + 4, UUID_LEN);
	p += 4 + UUID_LEN + 1;
	if (take_number(&p, end, ' ', &ev->event_id) < 0 || take_number(&p, end, ' ', &attempt) < 0 ||
	    attempt > INT32_MAX)
		return -1;
	ev->attempt = (int)attempt;
	const char *kind = p;
	while (p < end && *p != ' ')
		p++;
	int k = event_kind_parse(kind, (size_t)(p - kind));
	if (k < 0 || p == end)
		return -1;
	ev->kind = (enum event_kind)k;
	p++;
	if (take_number(&p, end, '\n', &ev->offset) < 0)
		return -1;
	ev->data = p;
	ev->len = (size_t)(end - p);
	return 0;
}
