#include "wake.h"

#include <string.h>

void wake_encode(const char *execution_id, char out[WAKE_MSG_LEN])
{
	memcpy(out, WAKE_PREFIX, sizeof(WAKE_PREFIX) - 1);
	memcpy(out + sizeof(WAKE_PREFIX) - 1, execution_id, UUID_LEN);
}

int wake_decode(const void *msg, size_t len, char id[UUID_LEN + 1])
{
	const char *m = msg;
	size_t plen = sizeof(WAKE_PREFIX) - 1;
	if (len != WAKE_MSG_LEN || memcmp(m, WAKE_PREFIX, plen) != 0)
		return -1;
	if (!uuid_valid(m + plen, UUID_LEN))
		return -1;
	memcpy(id, m + plen, UUID_LEN);
	id[UUID_LEN] = '\0';
	return 0;
}
