// CPU identification for Pleat. This file is compiled for baseline x86-64 (no -march), so that it can
// run, and explain, on a CPU that lacks what the rest of Pleat is built for.
#include "CPleatCPU.h"

#include <cpuid.h>
#include <string.h>

static uint64_t read_xcr0(void) {
    uint32_t eax, edx;
    __asm__ volatile("xgetbv" : "=a"(eax), "=d"(edx) : "c"(0));
    return ((uint64_t)edx << 32) | eax;
}

void pleat_cpu_read(struct pleat_cpu_info *info) {
    memset(info, 0, sizeof *info);
    unsigned a, b, c, d;
    if (!__get_cpuid(0, &a, &b, &c, &d)) return;
    unsigned max_leaf = a;
    memcpy(info->vendor + 0, &b, 4);
    memcpy(info->vendor + 4, &d, 4);
    memcpy(info->vendor + 8, &c, 4);

    __get_cpuid(1, &a, &b, &c, &d);
    unsigned base_family = (a >> 8) & 0xf, base_model = (a >> 4) & 0xf;
    info->stepping = a & 0xf;
    info->family = base_family == 0xf ? base_family + ((a >> 20) & 0xff) : base_family;
    info->model = (base_family == 0x6 || base_family == 0xf) ? (((a >> 16) & 0xf) << 4) + base_model : base_model;

    uint32_t f = 0;
    if (c & bit_SSE3) f |= PLEAT_CPU_SSE3;
    if (c & bit_SSSE3) f |= PLEAT_CPU_SSSE3;
    if (c & bit_SSE4_1) f |= PLEAT_CPU_SSE41;
    if (c & bit_SSE4_2) f |= PLEAT_CPU_SSE42;
    if (c & bit_POPCNT) f |= PLEAT_CPU_POPCNT;
    if (c & bit_MOVBE) f |= PLEAT_CPU_MOVBE;
    if (c & bit_F16C) f |= PLEAT_CPU_F16C;
    // AVX state (XMM and YMM) must be enabled by the OS, AVX-512 state (opmask, ZMM) too, AMX tiles too.
    int osxsave = (c & bit_OSXSAVE) != 0;
    uint64_t xcr0 = osxsave ? read_xcr0() : 0;
    int ymm = (xcr0 & 0x6) == 0x6, zmm = ymm && (xcr0 & 0xe0) == 0xe0, tiles = (xcr0 & 0x60000) == 0x60000;
    if (ymm && (c & bit_AVX)) f |= PLEAT_CPU_AVX;
    if (ymm && (c & bit_FMA)) f |= PLEAT_CPU_FMA;

    if (max_leaf >= 7) {
        __get_cpuid_count(7, 0, &a, &b, &c, &d);
        if (ymm && (b & bit_AVX2)) f |= PLEAT_CPU_AVX2;
        if (b & bit_BMI) f |= PLEAT_CPU_BMI1;
        if (b & bit_BMI2) f |= PLEAT_CPU_BMI2;
        if (zmm && (b & bit_AVX512F)) f |= PLEAT_CPU_AVX512F;
        if (zmm && (b & bit_AVX512CD)) f |= PLEAT_CPU_AVX512CD;
        if (zmm && (b & bit_AVX512BW)) f |= PLEAT_CPU_AVX512BW;
        if (zmm && (b & bit_AVX512DQ)) f |= PLEAT_CPU_AVX512DQ;
        if (zmm && (b & bit_AVX512VL)) f |= PLEAT_CPU_AVX512VL;
        if (zmm && (d & (1u << 23))) f |= PLEAT_CPU_AVX512FP16;
        if (tiles && (d & (1u << 24))) f |= PLEAT_CPU_AMX_TILE;
        unsigned subleaves = a;
        if (subleaves >= 1) {
            __get_cpuid_count(7, 1, &a, &b, &c, &d);
            if (zmm && (a & (1u << 5))) f |= PLEAT_CPU_AVX512BF16;
        }
    }
    if (__get_cpuid(0x80000000, &a, &b, &c, &d) && a >= 0x80000001) {
        unsigned max_extended = a;
        __get_cpuid(0x80000001, &a, &b, &c, &d);
        if (c & bit_ABM) f |= PLEAT_CPU_LZCNT;
        if (max_extended >= 0x80000004) {
            unsigned *words = (unsigned *)info->brand;
            for (unsigned leaf = 0; leaf < 3; leaf++)
                __get_cpuid(0x80000002 + leaf, &words[4 * leaf], &words[4 * leaf + 1], &words[4 * leaf + 2], &words[4 * leaf + 3]);
            info->brand[48] = 0;
        }
    }
    info->features = f;
}

void pleat_cpu_missing_v3(uint32_t features, char *out, int capacity) {
    static const struct { uint32_t bit; const char *name; } required[] = {
        {PLEAT_CPU_AVX2, "AVX2"}, {PLEAT_CPU_FMA, "FMA"}, {PLEAT_CPU_AVX, "AVX"}, {PLEAT_CPU_BMI1, "BMI1"},
        {PLEAT_CPU_BMI2, "BMI2"}, {PLEAT_CPU_F16C, "F16C"}, {PLEAT_CPU_LZCNT, "LZCNT"}, {PLEAT_CPU_MOVBE, "MOVBE"},
    };
    if (capacity <= 0) return;
    out[0] = 0;
    int used = 0;
    for (unsigned i = 0; i < sizeof required / sizeof required[0]; i++) {
        if (features & required[i].bit) continue;
        const char *name = required[i].name;
        int need = (int)strlen(name) + (used ? 2 : 0);
        if (used + need >= capacity) break;
        if (used) { memcpy(out + used, ", ", 2); used += 2; }
        memcpy(out + used, name, strlen(name));
        used += (int)strlen(name);
        out[used] = 0;
    }
}
