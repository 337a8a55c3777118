/*
 * Whose a row is: a session belongs to the sub whose token created it, and
 * its executions and submissions with it. fcgi_app's router and the events
 * program ask the same question before they serve a row by id.
 */
#ifndef ENGINE_OWNERSHIP_H
#define ENGINE_OWNERSHIP_H

#include "auth.h"
#include "store.h"

/* What an id in a path names, for its owner. */
enum owned_kind {
	OWNED_NONE,                     /* nobody's: test suites, or no id */
	OWNED_SESSION,
	OWNED_EXECUTION,                /* its session's owner */
	OWNED_SUBMISSION,               /* its session's owner */
};

/*
 * Whether who may see the row of kind named id: 1 when it is theirs, when
 * they are an admin (auth = none: everyone is) or when there is no such row
 * (the caller's own lookup then answers 404 as for any unknown id); 0 when
 * it is another learner's, which the caller answers with the same 404 (no
 * existence oracle); -1 on a store error.
 */
int ownership_visible(struct store *s, enum owned_kind kind, const char *id, const struct principal *who);

#endif
