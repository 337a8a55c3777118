/* Ownership: one lookup of a row's owner by the statement its kind names. */
#include "ownership.h"

#include <string.h>

static const enum store_stmt owner_stmt[] = {
	[OWNED_SESSION] = STMT_OWNER_SESSION,
	[OWNED_EXECUTION] = STMT_OWNER_EXECUTION,
	[OWNED_SUBMISSION] = STMT_OWNER_SUBMISSION,
};

int ownership_visible(struct store *s, enum owned_kind kind, const char *id, const struct principal *who)
{
	if (kind == OWNED_NONE || (who->scopes & SCOPE_ADMIN))
		return 1;
	struct store_query *q = store_query(s, owner_stmt[kind]);
	store_bind_str(q, 1, id);
	enum store_rc rc = store_step(q);
	int visible = rc == STORE_DONE ? 1
		: rc == STORE_ROW ? auth_owns(who, store_column_text(q, 0, NULL))
		: -1;
	store_reset(q);
	return visible;
}
