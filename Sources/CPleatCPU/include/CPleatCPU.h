#ifndef CPLEATCPU_H
#define CPLEATCPU_H

#include <stdint.h>

/// Feature bits of `pleat_cpu_info.features`: what the CPU reports (cpuid) *and* the operating system
/// has enabled (xgetbv), so a set bit means the instructions can run.
enum pleat_cpu_feature {
    PLEAT_CPU_SSE3 = 1u << 0,
    PLEAT_CPU_SSSE3 = 1u << 1,
    PLEAT_CPU_SSE41 = 1u << 2,
    PLEAT_CPU_SSE42 = 1u << 3,
    PLEAT_CPU_POPCNT = 1u << 4,
    PLEAT_CPU_AVX = 1u << 5,
    PLEAT_CPU_AVX2 = 1u << 6,
    PLEAT_CPU_FMA = 1u << 7,
    PLEAT_CPU_BMI1 = 1u << 8,
    PLEAT_CPU_BMI2 = 1u << 9,
    PLEAT_CPU_F16C = 1u << 10,
    PLEAT_CPU_LZCNT = 1u << 11,
    PLEAT_CPU_MOVBE = 1u << 12,
    PLEAT_CPU_AVX512F = 1u << 13,
    PLEAT_CPU_AVX512CD = 1u << 14,
    PLEAT_CPU_AVX512BW = 1u << 15,
    PLEAT_CPU_AVX512DQ = 1u << 16,
    PLEAT_CPU_AVX512VL = 1u << 17,
    PLEAT_CPU_AVX512BF16 = 1u << 18,
    PLEAT_CPU_AVX512FP16 = 1u << 19,
    PLEAT_CPU_AMX_TILE = 1u << 20,
};

/// What cpuid says about this processor.
struct pleat_cpu_info {
    char vendor[13];   ///< "GenuineIntel", "AuthenticAMD", …
    char brand[49];    ///< the marketing name, e.g. "AMD EPYC 9B14"
    uint32_t family;   ///< display family (base + extended)
    uint32_t model;    ///< display model (base + extended)
    uint32_t stepping;
    uint32_t features; ///< pleat_cpu_feature bits
};

/// Fills `info` from cpuid and xgetbv. Built for baseline x86-64, so it runs on any x86-64 CPU.
void pleat_cpu_read(struct pleat_cpu_info *info);

/// The x86-64-v3 features (AVX, AVX2, BMI1, BMI2, F16C, FMA, LZCNT, MOVBE) that `features` lacks,
/// as a comma-separated list in that order of importance (AVX2 first), or "" when none is missing.
/// Writes at most `capacity` bytes including the terminating zero.
void pleat_cpu_missing_v3(uint32_t features, char *out, int capacity);

/// CPUs in this process's affinity mask (sched_getaffinity: `taskset`, a container's cpuset), or -1
/// when the kernel does not say.
int pleat_affinity_cpu_count(void);

/// Always 1; referencing it keeps the baseline check (a constructor that stops Pleat with a clear message
/// on a CPU without x86-64-v3) linked into every binary.
int pleat_cpu_check_linked(void);

#endif
