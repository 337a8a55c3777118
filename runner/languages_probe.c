/*
 * The runner's languages: the table (conf/languages.conf) read at start,
 * each toolchain asked its version in a sandbox, and what can run here
 * recorded as JSON on the runner's row, which is what GET /languages
 * lists. A toolchain that is missing or fails in the sandbox is left out
 * with a warning; it never stops the runner.
 */
#include "languages_probe.h"

#include <json-c/json.h>
#include <stdio.h>
#include <string.h>

#include "diagnostics.h"
#include "lang_run.h"
#include "log.h"
#include "packages.h"
#include "toolchain_snapshot.h"

static void add_int(json_object *o, const char *key, int64_t v)
{
	json_object_object_add(o, key, json_object_new_int64(v));
}

static json_object *limits_json(const struct config *cfg, const struct language *l)
{
	struct sandbox_limits run, compile;
	json_object *o = json_object_new_object();

	lang_run_limits(cfg, l, &run);
	add_int(o, "wall_time_ms", run.wall_time_ms);
	add_int(o, "cpu_time_ms", run.cpu_time_ms);
	add_int(o, "memory_mb", run.memory_mb);
	add_int(o, "max_processes", run.max_processes);
	add_int(o, "max_open_files", run.max_open_files);
	add_int(o, "tmpfs_mb", run.tmpfs_mb);
	add_int(o, "max_output_bytes", run.max_output_bytes);
	if (l->compile.n) {
		lang_compile_limits(cfg, l, &compile);
		add_int(o, "compile_wall_time_ms", compile.wall_time_ms);
		add_int(o, "compile_memory_mb", compile.memory_mb);
		add_int(o, "compile_output_bytes", compile.max_output_bytes);
	}
	return o;
}

static json_object *language_json(const struct config *cfg, const struct language *l)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_object_new_string(l->id));
	json_object_object_add(o, "name", json_object_new_string(l->name));
	json_object_object_add(o, "version", json_object_new_string(l->version_text));
	json_object_object_add(o, "compiled", json_object_new_boolean(l->compile.n > 0));
	json_object_object_add(o, "limits", limits_json(cfg, l));
	json_object_object_add(o, "packages", packages_json(l, PACKAGES_DPKG_STATUS));
	return o;
}

int languages_probe_all(struct language_table *t, const struct sandbox_host *host,
			const struct config *cfg, char **json)
{
	json_object *arr = json_object_new_array();
	char err[512];
	int available = 0;

	for (int i = 0; i < t->n; i++) {
		struct language *l = &t->langs[i];

		if (lang_probe(host, cfg, l, err, sizeof err) < 0) {
			log_warn("language %s left out: %s", l->id, err);
			continue;
		}
		log_info("language %s: %s %s", l->id, l->name, l->version_text);
		toolchain_snapshot_ready(host, cfg, l);
		if (l->check.n && !diagnostics_known(l->diagnostics))
			log_warn("language %s: diagnostics \"%s\" names no parser; its checks report none",
				 l->id, l->diagnostics);
		json_object_array_add(arr, language_json(cfg, l));
		available++;
	}
	*json = strdup(json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN));
	json_object_put(arr);
	return *json ? available : -1;
}
