/* Artifacts: content types and the store's encoding (artifact.h). */
#include "artifact.h"

#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include <strings.h>

static const struct {
	const char *ext;
	const char *type;
} types[] = {
	{ ".png", "image/png" },
	{ ".svg", "image/svg+xml" },
	{ ".csv", "text/csv; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".txt", "text/plain; charset=utf-8" },
};

const char *content_type_of(const char *name)
{
	const char *dot = strrchr(name, '.');

	for (size_t i = 0; dot && i < sizeof types / sizeof types[0]; i++)
		if (strcasecmp(dot, types[i].ext) == 0)
			return types[i].type;
	return CONTENT_TYPE_DOWNLOAD;
}

bool artifact_name_ok(const char *name)
{
	size_t len = strlen(name);

	if (len == 0 || len > 255 || name[0] == '.' || !utf8_valid(name, len))
		return false;
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		if (*p < 0x20 || *p == 0x7f || *p == '\\' || *p == '/')
			return false;
	return true;
}

int artifacts_add(struct store *s, const char *id, json_object *execution)
{
	struct store_query *q = store_query(s, STMT_ARTIFACT_LIST);
	json_object *list = json_object_new_array();
	enum store_rc rc;

	store_bind_str(q, 1, id);
	while ((rc = store_step(q)) == STORE_ROW) {
		json_object *a = json_object_new_object();

		json_object_object_add(a, "path", json_object_new_string(store_column_text(q, ARTIFACT_PATH, NULL)));
		json_object_object_add(a, "size", json_object_new_int64(store_column_int64(q, ARTIFACT_SIZE)));
		json_object_object_add(a, "content_type",
				       json_object_new_string(store_column_text(q, ARTIFACT_CONTENT_TYPE, NULL)));
		json_object_array_add(list, a);
	}
	store_reset(q);
	if (rc != STORE_DONE) {
		json_object_put(list);
		return -1;
	}
	json_object_object_add(execution, "artifacts", list);
	return 0;
}

char *artifact_encode(const char *data, size_t len, size_t *outlen)
{
	char *out;

	if (len > (size_t)1 << 30 || !(out = malloc(4 * ((len + 2) / 3) + 1)))
		return NULL;
	*outlen = (size_t)EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
	return out;
}

char *artifact_decode(const char *text, size_t len, size_t *outlen)
{
	size_t pad = 0;
	char *out;
	int n;

	if (len % 4 || len > (size_t)1 << 30 || !(out = malloc(3 * (len / 4) + 1)))
		return NULL;
	/* EVP_DecodeBlock counts the padding as zero bytes. */
	while (pad < 2 && pad < len && text[len - 1 - pad] == '=')
		pad++;
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)text, (int)len);
	if (n < 0 || (size_t)n < pad) {
		free(out);
		return NULL;
	}
	*outlen = (size_t)n - pad;
	out[*outlen] = '\0';
	return out;
}
