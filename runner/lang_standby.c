/* A slot's standby sandbox (lang_standby.h). */
#include "lang_standby.h"
#include "log.h"

void lang_standby_keep(struct lang_standby *sb, const struct sandbox_host *host, const struct config *cfg,
		       const struct language *l, const struct lang_input *like, bool check_skipped)
{
	if (sb->unfit) {
		sandbox_abandon(sb->unfit);
		sb->unfit = NULL;
	}
	if (sb->ready && (sb->language != l || sb->check_skipped != check_skipped)) {
		sandbox_abandon(sb->ready);
		sb->ready = NULL;
	}
	if (!sb->ready) {
		sb->ready = lang_prepare_standby(host, cfg, l, like, check_skipped);
		sb->language = l;
		sb->check_skipped = check_skipped;
	}
}

struct sandbox_prepared *lang_standby_take(struct lang_standby *sb, const struct sandbox_job *job)
{
	struct sandbox_prepared *p = sb ? sb->ready : NULL;

	if (!p)
		return NULL;
	sb->ready = NULL;
	if (sandbox_prepared_fits(p, job)) {
		log_debug("slot %d: the run starts in its standby", job->slot);
		return p;
	}
	log_debug("slot %d: the standby does not fit the run", job->slot);
	sb->unfit = p;
	return NULL;
}

void lang_standby_drop(struct lang_standby *sb)
{
	if (sb->unfit)
		sandbox_abandon(sb->unfit);
	if (sb->ready)
		sandbox_abandon(sb->ready);
	sb->unfit = sb->ready = NULL;
}
