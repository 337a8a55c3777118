/*
 * The library a warm interpreter loads (runner/zygote/entry.c, built as
 * $(BUILD)/warm_entry.so), embedded in the runner so that an installed
 * runner carries it: warm.c hands it over as a sealed memfd.
 */
__asm__(".section .rodata\n"
	".global warm_lib_start\n"
	".balign 16\n"
	"warm_lib_start:\n"
	".incbin \"" WARM_LIB "\"\n"
	".global warm_lib_end\n"
	"warm_lib_end:\n"
	".previous\n");
