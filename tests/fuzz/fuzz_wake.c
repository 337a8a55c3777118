/* wake_decode: only well-formed messages decode, and they re-encode to the same bytes. */
#include <string.h>

#include "fuzz.h"
#include "wake.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char id[UUID_LEN + 1];
	char again[WAKE_MSG_LEN];
	if (wake_decode(data, size, id) != 0)
		return 0;
	FUZZ_ASSERT(size == WAKE_MSG_LEN && strlen(id) == UUID_LEN && uuid_valid(id, UUID_LEN));
	wake_encode(id, again);
	FUZZ_ASSERT(memcmp(again, data, WAKE_MSG_LEN) == 0);
	return 0;
}
