// Runs before main, and before any code built for x86-64-v3 can execute: on a CPU without AVX2, FMA and
// the rest of x86-64-v3, Pleat would die of SIGILL somewhere inside a kernel. Instead it stops here with
// the names of the missing features. Compiled for baseline x86-64, like cpu.c.
#include "CPleatCPU.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void write_text(const char *text) {
    size_t left = strlen(text);
    while (left > 0) {
        ssize_t n = write(STDERR_FILENO, text, left);
        if (n <= 0) return;
        text += n;
        left -= (size_t)n;
    }
}

/// Exit status for "this machine cannot run this build" (EX_CONFIG in sysexits.h).
enum { pleat_exit_unsupported_cpu = 78 };

__attribute__((constructor(101))) static void pleat_require_x86_64_v3(void) {
    struct pleat_cpu_info info;
    pleat_cpu_read(&info);
    char missing[128];
    pleat_cpu_missing_v3(info.features, missing, sizeof missing);
    if (missing[0] == 0) return;
    write_text("pleat: this CPU (");
    write_text(info.brand[0] ? info.brand : info.vendor);
    write_text(") lacks ");
    write_text(missing);
    write_text(". Pleat is built for x86-64-v3 (AVX2, FMA, BMI1, BMI2, F16C, LZCNT, MOVBE: Intel Haswell, AMD Zen or newer)"
               " and cannot run here.\n");
    _exit(pleat_exit_unsupported_cpu);
}

/// Referenced from Swift so that the linker keeps this object, and with it the check, in every binary.
int pleat_cpu_check_linked(void) { return 1; }
