#include "job.h"

#include <string.h>

void job_encode(const char *execution_id, char out[JOB_MSG_LEN])
{
	memcpy(out, JOB_PREFIX, sizeof(JOB_PREFIX) - 1);
	memcpy(out + sizeof(JOB_PREFIX) - 1, execution_id, UUID_LEN);
}

int job_decode(const void *msg, size_t len, char id[UUID_LEN + 1])
{
	const char *m = msg;
	size_t plen = sizeof(JOB_PREFIX) - 1;
	if (len != JOB_MSG_LEN || memcmp(m, JOB_PREFIX, plen) != 0)
		return -1;
	if (!uuid_valid(m + plen, UUID_LEN))
		return -1;
	memcpy(id, m + plen, UUID_LEN);
	id[UUID_LEN] = '\0';
	return 0;
}
