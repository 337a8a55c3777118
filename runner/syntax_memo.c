/* Sources that passed their syntax check (syntax_memo.h). */
#include "syntax_memo.h"
#include "fnv.h"

#include <string.h>

void syntax_memo_init(struct syntax_memo *m)
{
	memset(m, 0, sizeof *m);
	pthread_mutex_init(&m->lock, NULL);
}

/* Never 0, the empty slot's mark. */
static uint64_t key_of(const struct language *l, const char *source, size_t len)
{
	uint64_t h = fnv1a(FNV_OFFSET, l->id, strlen(l->id) + 1);

	h = fnv1a(h, l->version_text, strlen(l->version_text) + 1);
	h = fnv1a_words(h, source, len);
	return h ? h : 1;
}

static bool holds(const struct syntax_memo *m, uint64_t key)
{
	for (unsigned i = 0; i < SYNTAX_MEMO_KEYS; i++)
		if (m->keys[i] == key)
			return true;
	return false;
}

bool syntax_memo_passed(struct syntax_memo *m, const struct language *l, const char *source, size_t len)
{
	uint64_t key = key_of(l, source, len);
	bool found;

	pthread_mutex_lock(&m->lock);
	found = holds(m, key);
	pthread_mutex_unlock(&m->lock);
	return found;
}

void syntax_memo_add(struct syntax_memo *m, const struct language *l, const char *source, size_t len)
{
	uint64_t key = key_of(l, source, len);

	pthread_mutex_lock(&m->lock);
	if (!holds(m, key)) {
		m->keys[m->next] = key;
		m->next = (m->next + 1) % SYNTAX_MEMO_KEYS;
	}
	pthread_mutex_unlock(&m->lock);
}
