/* Unit tests of common/: configuration, UUIDs, UTF-8, the wake-up message. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "store.h"
#include "config.h"
#include "wake.h"
#include "util.h"

static char *write_temp(const char *text)
{
	static char path[64];
	snprintf(path, sizeof(path), "/tmp/engine-unit-XXXXXX");
	int fd = mkstemp(path);
	if (fd < 0)
		return NULL;
	ssize_t w = write(fd, text, strlen(text));
	close(fd);
	return w < 0 ? NULL : path;
}

static int load_text(struct config *cfg, const char *text, char *err, size_t errlen)
{
	char *path = write_temp(text);
	config_defaults(cfg);
	int rc = config_load(cfg, path, err, errlen);
	unlink(path);
	return rc;
}

TEST(config_defaults_match_the_design)
{
	struct config cfg;
	config_defaults(&cfg);
	CHECK(cfg.limits.cpu_time_ms == 5000);
	CHECK(cfg.limits.tmpfs_mb == 16);
	CHECK(cfg.limits.max_open_files == 64);
	CHECK(cfg.limits.wall_time_ms == 5000);
	CHECK(cfg.limits.memory_mb == 256);
	CHECK(cfg.limits.max_processes == 64);
	CHECK(cfg.limits.max_output_bytes == 65536);
	CHECK(cfg.max_source_bytes == 262144);
	CHECK(cfg.max_stdin_bytes == 65536);
	CHECK(cfg.max_suite_cases == 100);
	CHECK(cfg.max_case_bytes == 65536);
	CHECK(cfg.max_case_time_ms == 10000);
	CHECK(cfg.submission_parallel_cases == 4);
	CHECK(cfg.port == 8000);
	CHECK(cfg.runner_slots == 0);
	CHECK_STR(cfg.sandbox_mode, "auto");
	CHECK_STR(cfg.log_level, "info");
}

TEST(config_where_names_the_line_that_set_a_key)
{
	struct config cfg;
	char err[256] = "", where[CONFIG_PATH_MAX + 16];
	char *path = write_temp("# auth\n\nauth = token\n");
	config_defaults(&cfg);
	REQUIRE(config_load(&cfg, path, err, sizeof(err)) == 0);
	config_where(&cfg, "auth", where, sizeof(where));
	CHECK(strncmp(where, path, strlen(path)) == 0 && strcmp(where + strlen(path), ":3") == 0);
	config_where(&cfg, "auth_issuer", where, sizeof(where));
	CHECK_STR(where, path);
	unlink(path);
	config_defaults(&cfg);
	config_where(&cfg, "auth", where, sizeof(where));
	CHECK_STR(where, "defaults");
}

TEST(config_reads_values_comments_and_blank_lines)
{
	struct config cfg;
	char err[256] = "";
	unsetenv("PORT");
	unsetenv("DATA_DIR");
	REQUIRE(load_text(&cfg, "# c\n\nport = 9001  # trailing\n  data_dir=/srv/x\nmemory_mb=128\n",
			  err, sizeof(err)) == 0);
	CHECK(cfg.port == 9001);
	CHECK_STR(cfg.data_dir, "/srv/x");
	CHECK(cfg.limits.memory_mb == 128);
}

TEST(config_unknown_key_fails_with_line_number)
{
	struct config cfg;
	char err[256] = "";
	CHECK(load_text(&cfg, "port = 1\nbogus = 2\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2: unknown key bogus") != NULL);
}

TEST(config_rejects_out_of_range_and_non_numbers)
{
	struct config cfg;
	char err[256] = "";
	CHECK(load_text(&cfg, "port = 70000\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":1: port: out of range (an integer from 1 to 65535)") != NULL);
	CHECK(load_text(&cfg, "\nwall_time_ms = 5s\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2: wall_time_ms: not an integer (an integer from 100 to 600000)") != NULL);
	CHECK(load_text(&cfg, "port\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":1: expected key = value") != NULL);
}

TEST(config_environment_overrides_port_and_data_dir)
{
	struct config cfg;
	char err[256] = "";
	setenv("PORT", "18080", 1);
	setenv("DATA_DIR", "/tmp/x", 1);
	int rc = load_text(&cfg, "port = 9001\ndata_dir = /srv\n", err, sizeof(err));
	unsetenv("PORT");
	unsetenv("DATA_DIR");
	REQUIRE(rc == 0);
	CHECK(cfg.port == 18080);
	CHECK_STR(cfg.data_dir, "/tmp/x");
}

TEST(config_get_prints_values)
{
	struct config cfg;
	char v[64];
	config_defaults(&cfg);
	REQUIRE(config_get(&cfg, "fcgi_processes", v, sizeof(v)) == 0);
	CHECK_STR(v, "8");
	REQUIRE(config_get(&cfg, "python", v, sizeof(v)) == 0);
	CHECK_STR(v, "/usr/bin/python3");
	CHECK(config_get(&cfg, "nope", v, sizeof(v)) == -1);
}

TEST(config_enumerated_keys_are_checked_at_load_with_line_number)
{
	struct config cfg;
	char err[256] = "";
	CHECK(load_text(&cfg, "port = 1\nlog_level = verbose\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":2: log_level: must be one of error|warn|info|debug") != NULL);
	CHECK(load_text(&cfg, "sandbox_mode = nsjail\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":1: sandbox_mode: must be one of auto|cgroup|rlimit") != NULL);
	CHECK(load_text(&cfg, "log_level = \n", err, sizeof(err)) == -1);
	REQUIRE(load_text(&cfg, "log_level = debug\nsandbox_mode = rlimit\n", err, sizeof(err)) == 0);
	CHECK_STR(cfg.log_level, "debug");
	CHECK_STR(cfg.sandbox_mode, "rlimit");
}

TEST(config_store_is_sqlite_or_a_postgresql_url)
{
	struct config cfg;
	char err[256] = "";
	config_defaults(&cfg);
	CHECK_STR(cfg.store, "sqlite");
	CHECK(!store_is_postgresql(cfg.store));
	REQUIRE(load_text(&cfg, "store = postgresql://engine@db.example/engine\n", err, sizeof(err)) == 0);
	CHECK(store_is_postgresql(cfg.store));
	REQUIRE(load_text(&cfg, "store = postgres:///engine?host=/run/pg\n", err, sizeof(err)) == 0);
	CHECK(store_is_postgresql(cfg.store));
	CHECK(load_text(&cfg, "store = mysql://x\n", err, sizeof(err)) == -1);
	CHECK(strstr(err, ":1: store: must be one of sqlite|postgresql://*|postgres://*") != NULL);
	CHECK(load_text(&cfg, "store = postgresql://\n", err, sizeof(err)) == -1);
	CHECK(load_text(&cfg, "store = sqlite3\n", err, sizeof(err)) == -1);
}

TEST(store_open_names_an_unreachable_postgresql_server)
{
	struct config cfg;
	char err[256] = "";
	config_defaults(&cfg);
	snprintf(cfg.store, sizeof(cfg.store), "postgresql:///engine?host=/nonexistent&connect_timeout=1");
	CHECK(store_open(&cfg, STORE_ROLE_API, err, sizeof(err)) == NULL);
	CHECK(strncmp(err, "store: ", 7) == 0 && strstr(err, "/nonexistent") != NULL);
}

/* How many lines of text set key ("key = ..."). */
static int lines_setting(const char *text, const char *key)
{
	int n = 0;
	size_t len = strlen(key);
	for (const char *p = text; p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *after = p + strspn(p, " \t");
		if (strncmp(after, key, len) == 0 && after[len + strspn(after + len, " \t")] == '=')
			n++;
	}
	return n;
}

static char *read_text(const char *path)
{
	static char text[16384];
	FILE *f = fopen(path, "r");
	if (!f)
		return NULL;
	size_t n = fread(text, 1, sizeof(text) - 1, f);
	int whole = feof(f);
	fclose(f);
	text[n] = '\0';
	return whole ? text : NULL;
}

/* The shipped file is the documentation of the defaults: it sets every key
 * once, to exactly the built-in value. Run from the top of the tree. */
TEST(engine_conf_states_exactly_the_built_in_defaults)
{
	struct config builtin, shipped;
	char err[256] = "", want[CONFIG_PATH_MAX], got[CONFIG_PATH_MAX];
	const char *text = read_text("conf/engine.conf"), *key;

	REQUIRE(text != NULL);
	unsetenv("PORT");
	unsetenv("DATA_DIR");
	config_defaults(&builtin);
	memset(&shipped, 0, sizeof(shipped));
	REQUIRE(config_load(&shipped, "conf/engine.conf", err, sizeof(err)) == 0);
	for (size_t i = 0; (key = config_key_name(i)) != NULL; i++) {
		if (lines_setting(text, key) != 1)
			fprintf(stderr, "  conf/engine.conf sets %s %d times\n", key, lines_setting(text, key));
		CHECK(lines_setting(text, key) == 1);
		REQUIRE(config_get(&builtin, key, want, sizeof(want)) == 0);
		REQUIRE(config_get(&shipped, key, got, sizeof(got)) == 0);
		if (strcmp(want, got) != 0)
			fprintf(stderr, "  %s: conf/engine.conf says %s, the default is %s\n", key, got, want);
		CHECK_STR(want, got);
	}
}

TEST(uuid_valid_accepts_only_canonical_form)
{
	char id[UUID_LEN + 1];
	uuid_new(id);
	CHECK(uuid_valid(id, strlen(id)));
	CHECK(uuid_valid("0F8FAD5B-D9CB-469F-A165-70867728950E", 36));
	CHECK(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950", 35));
	CHECK(!uuid_valid("0f8fad5bxd9cb-469f-a165-70867728950e", 36));
	CHECK(!uuid_valid("0f8fad5b-d9cb-469f-a165-70867728950g", 36));
	CHECK(!uuid_valid("", 0));
}

TEST(rfc3339_formats_utc_with_milliseconds)
{
	char buf[RFC3339_LEN];
	rfc3339(1700000000123LL, buf);
	CHECK_STR(buf, "2023-11-14T22:13:20.123Z");
	rfc3339(5, buf);
	CHECK_STR(buf, "1970-01-01T00:00:00.005Z");
}

TEST(utf8_valid_rejects_ill_formed_sequences)
{
	CHECK(utf8_valid("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x98\x80", 15));
	CHECK(!utf8_valid("\xC0\xAF", 2));            /* overlong '/' */
	CHECK(!utf8_valid("\xED\xA0\x80", 3));        /* surrogate */
	CHECK(!utf8_valid("\xF4\x90\x80\x80", 4));    /* above U+10FFFF */
	CHECK(!utf8_valid("\xE2\x82", 2));            /* truncated */
	CHECK(!utf8_valid("\xFF", 1));
}

TEST(utf8_sanitize_replaces_each_bad_byte)
{
	char out[64];
	size_t n = utf8_sanitize("a\xFF" "b\xE2\x82", 5, out);
	CHECK(n == strlen("a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD"));
	CHECK_STR(out, "a\xEF\xBF\xBD" "b\xEF\xBF\xBD\xEF\xBF\xBD");
}

TEST(wake_message_round_trips)
{
	char id[UUID_LEN + 1], back[UUID_LEN + 1], msg[WAKE_MSG_LEN];
	uuid_new(id);
	wake_encode(id, msg);
	REQUIRE(wake_decode(msg, sizeof(msg), back) == 0);
	CHECK_STR(back, id);
}

TEST(wake_message_rejects_garbage)
{
	char id[UUID_LEN + 1], msg[WAKE_MSG_LEN];
	uuid_new(id);
	wake_encode(id, msg);
	CHECK(wake_decode(msg, sizeof(msg) - 1, id) == -1);
	CHECK(wake_decode("", 0, id) == -1);
	msg[0] = 'X';
	CHECK(wake_decode(msg, sizeof(msg), id) == -1);
	wake_encode("not-a-uuid-not-a-uuid-not-a-uuid-123", msg);
	CHECK(wake_decode(msg, sizeof(msg), id) == -1);
}
