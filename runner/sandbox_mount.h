/* The sandbox's file system (sandbox_mount.c), built by init. */
#ifndef RUNNER_SANDBOX_MOUNT_H
#define RUNNER_SANDBOX_MOUNT_H

#include "sandbox_child.h"

/* Builds the root file system and pivots into it. Dies (sandbox_fail.h)
 * on failure. */
void sandbox_build_root(struct sandbox_init_spec *spec);

#endif
