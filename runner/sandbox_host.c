/*
 * The start-up check of the sandbox: what the host allows, whether the
 * interpreter can be reached from inside, and one trivial run that must
 * succeed before the runner takes jobs (fail closed at start, not per job).
 */
#include "sandbox.h"
#include "log.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/*
 * The sandbox's root holds only /usr from the host, so the interpreter must
 * resolve to a regular executable file under /usr.
 */
static int resolve_python(struct sandbox_host *host, const char *python, char *err, size_t errlen)
{
	char real[PATH_MAX];
	struct stat st;

	if (!realpath(python, real)) {
		snprintf(err, errlen, "python %s: %s", python, strerror_r(errno, real, sizeof real));
		return -1;
	}
	if (strncmp(real, "/usr/", 5) != 0) {
		snprintf(err, errlen, "python %s: resolves to %.200s, outside /usr (the only host "
			 "directory inside the sandbox)", python, real);
		return -1;
	}
	if (stat(real, &st) < 0 || !S_ISREG(st.st_mode) || !(st.st_mode & 0111) ||
	    strlen(real) >= sizeof host->python) {
		snprintf(err, errlen, "python %s: not an executable file", python);
		return -1;
	}
	memcpy(host->python, real, strlen(real) + 1);
	return 0;
}

static const char *outcome_name(enum sandbox_outcome o)
{
	static const char *const names[] = {
		[SANDBOX_EXITED] = "exited", [SANDBOX_SIGNALED] = "signaled",
		[SANDBOX_TIMEOUT] = "timeout", [SANDBOX_OUTPUT_LIMIT] = "output limit",
		[SANDBOX_MEMORY_LIMIT] = "memory limit", [SANDBOX_SETUP_FAILED] = "setup failed",
	};

	return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}

/* Runs `pass` in slot 0: the whole sandbox must work before we take jobs. */
static int self_test(const struct sandbox_host *host, const struct sandbox_limits *limits,
		     char *err, size_t errlen)
{
	struct sandbox_job job = { .source = "pass", .source_len = 4, .limits = limits };
	struct sandbox_result res;
	int rc = -1;

	if (sandbox_run(host, &job, &res) < 0 || res.outcome == SANDBOX_SETUP_FAILED)
		snprintf(err, errlen, "%s", res.message);
	else if (res.outcome != SANDBOX_EXITED || res.exit_code != 0)
		snprintf(err, errlen, "sandbox self-test: `pass` ended with %s (exit %d, signal %d): %.120s",
			 outcome_name(res.outcome), res.exit_code, res.signal, res.err);
	else
		rc = 0;
	sandbox_result_free(&res);
	return rc;
}

/*
 * Rlimit-only mode, measured: RLIMIT_AS bounds each process, not the run
 * (four children held 826 MiB under a 256 MiB limit, and the run
 * completed), memfd and SysV shm pages count against no rlimit, and
 * nothing caps the run's share of the CPUs. So it runs only when the
 * operator has said so, and says on every start what is then unprotected.
 */
static int accept_rlimit_mode(bool allow, const char *why, char *err, size_t errlen)
{
	if (!allow) {
		snprintf(err, errlen, "%s; rlimit-only mode does not bound a run's total memory "
			 "(RLIMIT_AS is per process) or its CPU share: set sandbox_allow_rlimit = yes "
			 "to run unprotected anyway", why);
		return -1;
	}
	log_warn("sandbox: RLIMIT-ONLY MODE (%s, sandbox_allow_rlimit = yes): UNPROTECTED: a run's "
		 "total memory is not bounded (RLIMIT_AS is per process: several processes, SysV shm "
		 "and tmpfs add up), nor its share of the CPUs (only RLIMIT_CPU per process), nor its "
		 "page cache; memfd_create is denied in this mode", why);
	return 0;
}

/*
 * Chooses what bounds memory and processes: per-run cgroups, or rlimits
 * alone. "auto" falls back to rlimits, "cgroup" refuses; rlimits only with
 * the operator's consent (accept_rlimit_mode).
 */
static int init_limits(struct sandbox_host *host, const char *mode, bool allow_rlimit, char *err,
		       size_t errlen)
{
	char why[512], because[700];

	if (strcmp(mode, "rlimit") == 0)
		return accept_rlimit_mode(allow_rlimit, "sandbox_mode = rlimit", err, errlen);
	if (strcmp(mode, "cgroup") != 0 && strcmp(mode, "auto") != 0) {
		snprintf(err, errlen, "sandbox_mode %.40s: must be auto, cgroup or rlimit", mode);
		return -1;
	}
	if (cgroup_host_init(&host->cg, why, sizeof why) == 0) {
		log_info("sandbox: cgroup v%d limits under %s", host->cg.version == CGROUP_V2 ? 2 : 1,
			 host->cg.where);
		return 0;
	}
	if (strcmp(mode, "cgroup") == 0) {
		snprintf(err, errlen, "sandbox_mode = cgroup, but cgroups cannot be used on this host: %s", why);
		return -1;
	}
	snprintf(because, sizeof because, "sandbox_mode = auto, but cgroups cannot be used on this host (%s)",
		 why);
	return accept_rlimit_mode(allow_rlimit, because, err, errlen);
}

static void set_mode_name(struct sandbox_host *host)
{
	const char *limits = host->cg.version == CGROUP_V2 ? "cgroup-v2" :
			     host->cg.version == CGROUP_V1 ? "cgroup-v1" : "rlimits-unbounded";

	snprintf(host->mode, sizeof host->mode, "namespaces+%s+seccomp", limits);
}

int sandbox_host_init(struct sandbox_host *host, const char *python, long uid_base, const char *mode,
		      bool allow_rlimit, const struct sandbox_limits *limits, char *err, size_t errlen)
{
	memset(host, 0, sizeof *host);
	cgroup_host_none(&host->cg);
	host->root = geteuid() == 0;
	host->uid_base = uid_base;
	if (host->root && (uid_base <= 0 || uid_base >= (long)UINT32_MAX - 65536)) {
		snprintf(err, errlen, "uid_base %ld: must be a positive unused host uid range", uid_base);
		return -1;
	}
	if (resolve_python(host, python, err, errlen) < 0 || init_limits(host, mode, allow_rlimit, err, errlen) < 0)
		return -1;
	if (syscall_filter_build(&host->filter, host->cg.version == CGROUP_NONE, err, errlen) < 0) {
		sandbox_host_fini(host);
		return -1;
	}
	set_mode_name(host);
	if (self_test(host, limits, err, errlen) == 0)
		return 0;
	sandbox_host_fini(host);
	return -1;
}

void sandbox_host_fini(struct sandbox_host *host)
{
	cgroup_host_fini(&host->cg);
	syscall_filter_free(&host->filter);
}
