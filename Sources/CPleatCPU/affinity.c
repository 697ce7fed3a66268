// The affinity mask in C: CPU_COUNT and cpu_set_t are macros and a glibc type that Swift cannot use.
#define _GNU_SOURCE
#include <sched.h>

#include "CPleatCPU.h"

int pleat_affinity_cpu_count(void) {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof set, &set) != 0) return -1;
    return CPU_COUNT(&set);
}
