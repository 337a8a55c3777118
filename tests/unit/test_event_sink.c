/* Unit tests of how a run's output becomes events: ids, offsets, UTF-8. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "event_msg.h"
#include "event_sink.h"

static const char id[] = "0b7a5a4e-3c5e-4c1e-9f37-1d2e3f4a5b6c";

/* A sink with no PUB socket and no store: what it would write stays pending. */
static void begin(struct event_sink *s)
{
	event_sink_begin(s, NULL, NULL, "runner", id, 2);
}

static void end(struct event_sink *s)
{
	event_sink_done(s);
}

/* The output chunks of one stream, concatenated. */
static char *joined(const struct event_sink *s, enum event_kind kind)
{
	char *out = calloc(1, 1 << 16);
	size_t len = 0;
	for (size_t i = 0; i < s->npending; i++) {
		const struct pending_event *e = &s->pending[i];
		if (e->kind != kind)
			continue;
		memcpy(out + len, e->data, e->len);
		len += e->len;
	}
	return out;
}

TEST(event_sink_starts_with_running_and_numbers_events_per_attempt)
{
	struct event_sink s;
	begin(&s);
	event_sink_output(&s, 0, "hi\n", 3);
	event_sink_output(&s, 1, "oops", 4);
	REQUIRE(s.npending == 3);
	CHECK(s.pending[0].kind == EVENT_STATUS && strcmp(s.pending[0].data, "RUNNING") == 0);
	for (size_t i = 0; i < 3; i++)
		CHECK(s.pending[i].event_id == EVENT_ID(2, i + 1));
	CHECK(s.pending[1].kind == EVENT_STDOUT && s.pending[1].offset == 0);
	CHECK(s.pending[2].kind == EVENT_STDERR && s.pending[2].offset == 0);
	end(&s);
}

TEST(event_sink_never_splits_a_character_across_reads)
{
	struct event_sink s;
	begin(&s);
	event_sink_output(&s, 0, "a\xe2\x82", 3);
	event_sink_output(&s, 0, "\xac b", 3);
	REQUIRE(s.npending == 3);
	CHECK(s.pending[1].len == 1 && memcmp(s.pending[1].data, "a", 1) == 0);
	CHECK(s.pending[2].offset == 1);
	CHECK(s.pending[2].len == 5 && memcmp(s.pending[2].data, "\xe2\x82\xac b", 5) == 0);
	end(&s);
}

TEST(event_sink_replaces_invalid_bytes_and_keeps_raw_offsets)
{
	struct event_sink s;
	begin(&s);
	event_sink_output(&s, 0, "\xff\x00z", 3);
	event_sink_output(&s, 0, "y", 1);
	REQUIRE(s.npending == 3);
	CHECK(s.pending[1].len == 5 && memcmp(s.pending[1].data, "\xef\xbf\xbd\0z", 5) == 0);
	CHECK(s.pending[2].offset == 3);
	end(&s);
}

TEST(event_sink_holds_an_incomplete_sequence_until_more_comes)
{
	struct event_sink s;
	begin(&s);
	event_sink_output(&s, 0, "x\xc3", 2);
	REQUIRE(s.npending == 2);
	CHECK(s.pending[1].len == 1 && s.hold_len[0] == 1 && s.hold_len[1] == 0);
	event_sink_output(&s, 0, "\xa9", 1);
	REQUIRE(s.npending == 3);
	CHECK(s.pending[2].offset == 1 && s.pending[2].len == 2 && s.hold_len[0] == 0);
	end(&s);
}

TEST(event_sink_cuts_a_large_read_into_chunks_at_character_boundaries)
{
	struct event_sink s;
	char *big = malloc(10001);
	for (int i = 0; i < 10000; i += 2)
		memcpy(big + i, "\xc3\xa9", 2);             /* é */
	big[10000] = 'x';
	begin(&s);
	event_sink_output(&s, 0, big, 10001);
	int64_t at = 0;
	for (size_t i = 1; i < s.npending; i++) {
		CHECK(s.pending[i].offset == at);
		CHECK(s.pending[i].len <= EVENT_CHUNK_BYTES);
		CHECK(((unsigned char)s.pending[i].data[0] & 0xC0) != 0x80);
		at += (int64_t)s.pending[i].len;
	}
	CHECK(at == 10001);
	char *all = joined(&s, EVENT_STDOUT);
	CHECK(memcmp(all, big, 10001) == 0);
	free(all);
	free(big);
	end(&s);
}
