/* validate_query and validate_id: whatever is accepted is in range. */
#include <string.h>

#include "fuzz.h"
#include "util.h"
#include "validate.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct config cfg;
	char buf[4096];
	if (size >= sizeof(buf))
		return 0;
	config_defaults(&cfg);
	memcpy(buf, data, size);
	buf[size] = '\0';       /* the query arrives as a C string from the environment */

	struct query_values q;
	struct verror err;
	if (validate_query(QUERY_PAGE, buf, &cfg, &q, &err) == 0) {
		if (q.present[PARAM_LIMIT])
			FUZZ_ASSERT(q.value[PARAM_LIMIT] >= 1 && q.value[PARAM_LIMIT] <= cfg.page_size_max);
		if (q.present[PARAM_CURSOR])
			FUZZ_ASSERT(q.value[PARAM_CURSOR] >= 1);
	} else
		FUZZ_ASSERT(strcmp(err.code, "INVALID_QUERY") == 0 && err.field);
	FUZZ_ASSERT(validate_query(QUERY_NONE, buf, &cfg, &q, &err) == 0);
	if (validate_id((const char *)data, size, ID_UUID, "session", &err) == 0)
		FUZZ_ASSERT(size == UUID_LEN);
	return 0;
}
