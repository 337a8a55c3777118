/* /metrics' text helpers and its histograms (metrics_text.h). */
#include "metrics_text.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "store_metrics.h"

#define BOUND_(b) b,
static const int64_t ms_bounds[] = { METRIC_MS_BOUNDS(BOUND_) };
static const int64_t permille_bounds[] = { METRIC_PERMILLE_BOUNDS(BOUND_) };
#define NBOUNDS(a) (int)(sizeof(a) / sizeof((a)[0]))
#define MAX_BOUNDS 16
_Static_assert(NBOUNDS(ms_bounds) <= MAX_BOUNDS && NBOUNDS(permille_bounds) <= MAX_BOUNDS,
	       "a histogram has at most MAX_BOUNDS buckets");

/* A histogram of /metrics: which rows of metric_buckets, under which name. */
struct histogram {
	const char *key;                /* name in metric_buckets */
	const char *name, *help;
	bool by_language;               /* one series per language; otherwise all together */
	const int64_t *bounds;          /* in ms or per mille: both are shown / 1000 */
	int nbounds;
};

static const struct histogram histograms[] = {
	{ METRIC_RUN, "execution_duration_seconds",
	  "Wall-clock time of the program in the sandbox, finished executions.", false, ms_bounds, NBOUNDS(ms_bounds) },
	{ METRIC_QUEUE_WAIT, "queue_wait_seconds",
	  "Time from Run to a runner's claim, per claim.", false, ms_bounds, NBOUNDS(ms_bounds) },
	{ METRIC_SETUP, "sandbox_setup_seconds",
	  "Time to build the sandbox, from clone to the interpreter's start.", false, ms_bounds, NBOUNDS(ms_bounds) },
	{ METRIC_END_TO_END, "end_to_end_seconds",
	  "Time from Run to the final status (queue, compile and run), by language.", true,
	  ms_bounds, NBOUNDS(ms_bounds) },
	{ METRIC_SLOT_USE, "slot_utilisation_ratio",
	  "Busy share of a runner's slots, observed at each of its heartbeats.", false,
	  permille_bounds, NBOUNDS(permille_bounds) },
};

/* One row of metric_buckets. */
struct bucket_row {
	char name[16], language[32];
	int64_t le, count, sum;
};

struct bucket_rows {
	struct bucket_row *v;
	size_t n, cap;
};

/* The series a histogram writes for one language (or for all of them). */
struct series {
	int64_t le[MAX_BOUNDS];         /* cumulative */
	int64_t count, sum;
};

void metrics_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX "%s %s\n", name, help, name, type);
}

void metrics_label_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static int rows_add(struct bucket_rows *r, struct store_query *q)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 64;
		struct bucket_row *v = realloc(r->v, cap * sizeof(*v));
		if (!v)
			return -1;
		r->v = v;
		r->cap = cap;
	}
	struct bucket_row *b = &r->v[r->n++];
	snprintf(b->name, sizeof(b->name), "%s", store_column_text(q, METRIC_BUCKET_NAME, NULL));
	snprintf(b->language, sizeof(b->language), "%s", store_column_text(q, METRIC_BUCKET_LANGUAGE, NULL));
	b->le = store_column_int64(q, METRIC_BUCKET_LE);
	b->count = store_column_int64(q, METRIC_BUCKET_COUNT);
	b->sum = store_column_int64(q, METRIC_BUCKET_SUM);
	return 0;
}

static enum db_status rows_load(struct store *s, struct bucket_rows *r)
{
	struct store_query *q = store_query(s, STMT_METRICS_BUCKETS);
	enum store_rc rc;
	int failed = 0;
	while (!failed && (rc = store_step(q)) == STORE_ROW)
		failed = rows_add(r, q);
	store_reset(q);
	return !failed && rc == STORE_DONE ? DB_OK : db_failed(s, "metrics buckets");
}

static void series_add(struct series *sr, const struct histogram *h, const struct bucket_row *b)
{
	for (int i = 0; i < h->nbounds; i++)
		if (b->le <= h->bounds[i])
			sr->le[i] += b->count;
	sr->count += b->count;
	sr->sum += b->sum;
}

static void series_write(FILE *f, const struct histogram *h, const char *language, const struct series *sr)
{
	for (int i = 0; i <= h->nbounds; i++) {
		fprintf(f, PREFIX "%s_bucket{", h->name);
		if (language) {
			fputs("language=\"", f);
			metrics_label_value(f, language);
			fputs("\",", f);
		}
		if (i < h->nbounds)
			fprintf(f, "le=\"%g\"} %lld\n", (double)h->bounds[i] / 1000.0, (long long)sr->le[i]);
		else
			fprintf(f, "le=\"+Inf\"} %lld\n", (long long)sr->count);
	}
	for (int k = 0; k < 2; k++) {
		fprintf(f, PREFIX "%s_%s", h->name, k ? "count" : "sum");
		if (language) {
			fputs("{language=\"", f);
			metrics_label_value(f, language);
			fputs("\"}", f);
		}
		if (k)
			fprintf(f, " %lld\n", (long long)sr->count);
		else
			fprintf(f, " %.3f\n", (double)sr->sum / 1000.0);
	}
}

/* The rows are in (name, language, le) order: a language's rows are consecutive. */
static void histogram_write(FILE *f, const struct histogram *h, const struct bucket_rows *r)
{
	struct series all = { 0 }, one = { 0 };
	const char *language = NULL;
	metrics_family(f, h->name, "histogram", h->help);
	for (size_t i = 0; i < r->n; i++) {
		const struct bucket_row *b = &r->v[i];
		if (strcmp(b->name, h->key) != 0)
			continue;
		if (h->by_language && language && strcmp(language, b->language) != 0) {
			series_write(f, h, language, &one);
			memset(&one, 0, sizeof(one));
		}
		language = b->language;
		series_add(h->by_language ? &one : &all, h, b);
	}
	if (!h->by_language)
		series_write(f, h, NULL, &all);
	else if (language)
		series_write(f, h, language, &one);
}

enum db_status metrics_write_histograms(struct store *s, FILE *f)
{
	struct bucket_rows r = { 0 };
	enum db_status st = rows_load(s, &r);
	for (size_t i = 0; st == DB_OK && i < sizeof(histograms) / sizeof(histograms[0]); i++)
		histogram_write(f, &histograms[i], &r);
	free(r.v);
	return st;
}
