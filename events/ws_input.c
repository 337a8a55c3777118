/*
 * What a WebSocket client may send: {"stdin": "..."} and/or {"eof": true},
 * forwarded to the execution's stdin the same way as POST
 * /executions/{id}/stdin (common/store_stdin.h), with the same limits. A
 * message that is refused gets an error message back,
 * {"event": "error", "data": {"code", "message", "field"}}, with the codes
 * of that endpoint; the stream carries on.
 */
#include "events.h"

#include <json.h>
#include <string.h>

#include "render.h"
#include "store_stdin.h"

static void send_error(struct conn *c, const char *code, const char *field, const char *message)
{
	json_object *msg = json_object_new_object();
	json_object *err = render_error(code, message, field);
	json_object_object_add(msg, "event", json_object_new_string("error"));
	json_object_object_add(msg, "data", json_object_get(json_object_object_get(err, "error")));
	const char *text = json_object_to_json_string_ext(msg, JSON_C_TO_STRING_PLAIN |
							  JSON_C_TO_STRING_NOSLASHESCAPE);
	ws_queue_frame(c, 1, text, strlen(text), true);
	json_object_put(msg);
	json_object_put(err);
}

/* Parses a message as strict UTF-8 JSON. Returns the object, or NULL. */
static json_object *parse_message(const char *text, size_t len)
{
	json_tokener *tok = json_tokener_new();
	if (!tok)
		return NULL;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	json_object *o = json_tokener_parse_ex(tok, text, (int)len);
	bool whole = o && json_tokener_get_error(tok) == json_tokener_success &&
		     (size_t)json_tokener_get_parse_end(tok) == len;
	json_tokener_free(tok);
	if (!whole || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

/* Checks the fields: only stdin (a string) and eof (a boolean), at least one. */
static const char *check_fields(json_object *o, const char **field)
{
	json_object *v;
	json_object_object_foreach(o, key, val) {
		(void)val;
		if (strcmp(key, "stdin") != 0 && strcmp(key, "eof") != 0) {
			*field = key;
			return "unknown field";
		}
	}
	if (json_object_object_get_ex(o, "stdin", &v) && !json_object_is_type(v, json_type_string)) {
		*field = "stdin";
		return "stdin must be a string";
	}
	if (json_object_object_get_ex(o, "eof", &v) && !json_object_is_type(v, json_type_boolean)) {
		*field = "eof";
		return "eof must be true or false";
	}
	if (!json_object_object_get_ex(o, "stdin", NULL) && !json_object_object_get_ex(o, "eof", NULL)) {
		*field = NULL;
		return "a message needs stdin or eof";
	}
	return NULL;
}

void ws_client_message(struct events *ev, struct conn *c, const char *text, size_t len)
{
	json_object *o = parse_message(text, len), *v;
	const char *field = NULL, *why;

	if (!o) {
		send_error(c, "INVALID_JSON", NULL, "a message must be a JSON object");
		return;
	}
	if ((why = check_fields(o, &field))) {
		send_error(c, "INVALID_FIELD", field, why);
		json_object_put(o);
		return;
	}
	const char *data = "";
	size_t dlen = 0;
	if (json_object_object_get_ex(o, "stdin", &v)) {
		data = json_object_get_string(v);
		dlen = (size_t)json_object_get_string_len(v);
	}
	bool eof = json_object_object_get_ex(o, "eof", &v) && json_object_get_boolean(v);
	switch (store_stdin_send(ev->store, c->execution_id, data, dlen, eof, ev->cfg.max_stdin_bytes)) {
	case STDIN_SENT:
		break;
	case STDIN_NO_EXECUTION:
		send_error(c, "NOT_FOUND", NULL, "no execution with this id");
		break;
	case STDIN_NOT_OPEN:
		send_error(c, "NOT_RUNNING", NULL, "the execution is not an interactive one still running, "
			   "or its input was closed with eof");
		break;
	case STDIN_OVER_LIMIT:
		send_error(c, "PAYLOAD_TOO_LARGE", "stdin", "the input sent to this execution would pass "
			   "max_stdin_bytes");
		break;
	case STDIN_STORE_ERROR:
		send_error(c, "STORE_UNAVAILABLE", NULL, "the store did not answer");
		break;
	}
	json_object_put(o);
}
