/*
 * What one execution may use. Part of the configuration (struct config
 * holds them, the config table gives their defaults and ranges); the
 * sandbox reads them through a pointer.
 */
#ifndef ENGINE_SANDBOX_LIMITS_H
#define ENGINE_SANDBOX_LIMITS_H

struct sandbox_limits {
	int wall_time_ms;
	int cpu_time_ms;
	int memory_mb;
	int max_processes;
	int tmpfs_mb;                   /* writable /tmp, also the largest file */
	int max_open_files;
	long max_output_bytes;          /* per stream */
	int cpu_demote_after_ms;        /* CPU time after which the run's CPU weight drops; 0 = never */
	int as_mb;                      /* RLIMIT_AS when not 0 (a language's override) */
	int max_cpu_percent;            /* CPU time per wall time, in % of one CPU (cgroup modes) */
	int cpu_weight;                 /* the run's CPU weight on cgroup v2's scale (cgroup modes); 0: the default, 100 */
};

#endif
