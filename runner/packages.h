/*
 * The Debian packages a language lists (languages.conf "packages"), with
 * the versions installed on the runner's host, read from dpkg's status
 * file at start: what GET /languages shows as the language's packages.
 */
#ifndef RUNNER_PACKAGES_H
#define RUNNER_PACKAGES_H

#include <json-c/json.h>

#include "languages.h"

/* dpkg's record of what is installed. */
#define PACKAGES_DPKG_STATUS "/var/lib/dpkg/status"

/*
 * [{"name", "version"}] for each of l's packages installed according to
 * status_path, in l's order; one not installed is left out with a warning
 * in the log (a program importing it would fail, and the operator should
 * know). Never NULL: an unreadable file gives [] and a warning.
 */
json_object *packages_json(const struct language *l, const char *status_path);

#endif
