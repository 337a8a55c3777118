/* The installed versions of a language's packages (packages.h). */
#include "packages.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* One paragraph of the status file, as far as it matters here. */
struct paragraph {
	char name[128];
	char version[64];
	bool installed;
};

/* Copies the value of "Key: value\n" into out when line starts with key. */
static bool field(const char *line, const char *key, char *out, size_t size)
{
	size_t n = strlen(key);

	if (strncmp(line, key, n) != 0)
		return false;
	snprintf(out, size, "%.*s", (int)strcspn(line + n, "\n"), line + n);
	return true;
}

/* Stores the paragraph's version under the package it names, if l lists it. */
static void paragraph_end(const struct language *l, struct paragraph *p, char **versions)
{
	for (int i = 0; p->installed && i < l->npackages; i++)
		if (strcmp(l->packages[i], p->name) == 0 && !versions[i])
			versions[i] = strdup(p->version);
	memset(p, 0, sizeof *p);
}

static void read_status(FILE *f, const struct language *l, char **versions)
{
	struct paragraph p = { 0 };
	char status[128];
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, f) > 0) {
		if (line[0] == '\n')
			paragraph_end(l, &p, versions);
		else if (field(line, "Status: ", status, sizeof status))
			p.installed = strcmp(status, "install ok installed") == 0;
		else if (!field(line, "Package: ", p.name, sizeof p.name))
			field(line, "Version: ", p.version, sizeof p.version);
	}
	paragraph_end(l, &p, versions);
	free(line);
}

json_object *packages_json(const struct language *l, const char *status_path)
{
	json_object *arr = json_object_new_array();
	char *versions[LANG_PACKAGES] = { 0 };
	FILE *f;

	if (l->npackages == 0)
		return arr;
	if (!(f = fopen(status_path, "re"))) {
		log_warn("language %s: cannot read %s: its packages are not listed", l->id, status_path);
		return arr;
	}
	read_status(f, l, versions);
	fclose(f);
	for (int i = 0; i < l->npackages; i++) {
		json_object *o;

		if (!versions[i]) {
			log_warn("language %s: package %s is not installed", l->id, l->packages[i]);
			continue;
		}
		o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(l->packages[i]));
		json_object_object_add(o, "version", json_object_new_string(versions[i]));
		json_object_array_add(arr, o);
		free(versions[i]);
	}
	return arr;
}
