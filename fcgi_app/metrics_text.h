/*
 * The pieces of /metrics' Prometheus text that are not one query's rows:
 * the HELP and TYPE lines, label values, and the histograms, which the
 * store keeps as one non-cumulative row per bucket (common/store_metrics.h).
 */
#ifndef FCGI_METRICS_TEXT_H
#define FCGI_METRICS_TEXT_H

#include <stdio.h>

#include "db.h"

#define PREFIX "code_exec_"

/* "# HELP code_exec_<name> help" and "# TYPE code_exec_<name> type". */
void metrics_family(FILE *f, const char *name, const char *type, const char *help);

/* Writes s as a label value: backslash, double quote and newline escaped. */
void metrics_label_value(FILE *f, const char *s);

/*
 * Every histogram (run time, queue wait, sandbox setup, end-to-end latency,
 * slot use) from the store's bucket rows, with every bucket written even
 * when empty. DB_ERROR if the store does not answer.
 */
enum db_status metrics_write_histograms(struct store *s, FILE *f);

#endif
