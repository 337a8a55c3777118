/*
 * validate_body over every body kind (the first byte picks the kind), and
 * the strict syntax gate against json-c: whatever the gate lets through,
 * json-c must parse too, or the API would answer 400 to valid JSON.
 */
#include <stdbool.h>
#include <string.h>
#include <json.h>

#include "fuzz.h"
#include "json_strict.h"
#include "util.h"
#include "validate.h"

static void check_gate_agrees_with_json_c(const char *s, size_t len)
{
	struct json_strict_error err;
	if (json_strict_check(s, len, 16, NULL, NULL, &err)) {
		FUZZ_ASSERT(err.why != NULL && err.offset <= len);
		return;
	}
	json_tokener *tok = json_tokener_new_ex(16);
	FUZZ_ASSERT(tok);
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	json_object *o = json_tokener_parse_ex(tok, s, (int)len);
	enum json_tokener_error e = json_tokener_get_error(tok);
	/*
	 * json-c cannot tell a bare top-level number or literal has ended
	 * without a delimiter after it (validate_body refuses those anyway).
	 */
	size_t first = strspn(s, " \t\r\n");
	bool bare_scalar = first < len && s[first] && !strchr("{[\"", s[first]);
	FUZZ_ASSERT(e == json_tokener_success || (e == json_tokener_continue && bare_scalar));
	json_object_put(o);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	if (size < 1 || size > 1 << 20)
		return 0;
	config_defaults(&cfg);
	cfg.max_source_bytes = 64;      /* reach the limit checks with small inputs */
	cfg.max_stdin_bytes = 16;
	enum body_kind kind = (enum body_kind)(data[0] % BODY__MAX);
	const char *body = (const char *)data + 1;
	size_t len = size - 1;

	struct validated v;
	struct verror err;
	memset(&err, 0, sizeof(err));
	if (validate_body(kind, body, len, &cfg, &v, &err) == 0) {
		for (int i = 0; i < FIELD__MAX; i++) {
			const struct field_value *f = &v.fields[i];
			if (f->present)
				FUZZ_ASSERT(f->str && strlen(f->str) == f->len && utf8_valid(f->str, f->len));
		}
		validated_free(&v);
	} else {
		FUZZ_ASSERT(err.status == 400 && err.code && err.message[0]);
		if (err.field)
			FUZZ_ASSERT(utf8_valid(err.field, strlen(err.field)));
	}
	check_gate_agrees_with_json_c(body, len);
	return 0;
}
