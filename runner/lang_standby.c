/* A slot's standby sandboxes (lang_standby.h). */
#include "lang_standby.h"
#include "log.h"

static void pair_end(struct sandbox_prepared **p)
{
	if (*p)
		sandbox_abandon(*p);
	*p = NULL;
}

static void pair_drop(struct standby_pair *pair)
{
	pair_end(&pair->unfit);
	pair_end(&pair->ready);
}

void lang_standby_keep(struct lang_standby *sb, const struct sandbox_host *host, const struct config *cfg,
		       const struct language *l, const struct lang_input *like, bool check_skipped)
{
	pair_end(&sb->run.unfit);
	pair_end(&sb->compile.unfit);
	if (sb->language != l || sb->check_skipped != check_skipped)
		pair_end(&sb->run.ready);
	if (sb->language != l)
		pair_end(&sb->compile.ready);
	sb->language = l;
	sb->check_skipped = check_skipped;
	if (!sb->run.ready)
		sb->run.ready = lang_prepare_standby(host, cfg, l, like, check_skipped);
	if (!sb->compile.ready && l->compile.n > 0)
		sb->compile.ready = lang_prepare_compile_standby(host, cfg, l, like);
}

struct sandbox_prepared *lang_standby_take(struct lang_standby *sb, const struct sandbox_job *job)
{
	struct standby_pair *pair = sb ? (job->compile ? &sb->compile : &sb->run) : NULL;
	const char *what = job->compile ? "compile" : "run";
	struct sandbox_prepared *p = pair ? pair->ready : NULL;

	if (!p)
		return NULL;
	pair->ready = NULL;
	if (!sandbox_prepared_alive(p)) {
		log_warn("slot %d: its standby sandbox ended while it waited; the %s gets a new one", job->slot,
			 what);
		sandbox_abandon(p);
		return NULL;
	}
	if (sandbox_prepared_fits(p, job)) {
		log_debug("slot %d: the %s starts in its standby", job->slot, what);
		return p;
	}
	log_debug("slot %d: the standby does not fit the %s", job->slot, what);
	pair->unfit = p;
	return NULL;
}

void lang_standby_drop(struct lang_standby *sb)
{
	pair_drop(&sb->run);
	pair_drop(&sb->compile);
}
