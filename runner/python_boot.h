/* The program the sandbox's interpreter starts with (python3 -S -c ...). */
#ifndef RUNNER_PYTHON_BOOT_H
#define RUNNER_PYTHON_BOOT_H

extern const char python_boot[];
extern const char python_warm_prelude[];
extern const char python_warm_epilogue[];

#endif
