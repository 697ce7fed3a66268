// 16-lane AVX-512 row kernels; see CPleatKernels.h. Every function carries its own target attribute, so
// the rest of the binary stays x86-64-v3 and these run only where the caller found AVX-512F.
#include <immintrin.h>
#include "CPleatKernels.h"

#define AVX512 __attribute__((target("avx512f")))

typedef __m512 v16;

static inline AVX512 v16 splat(float a) { return _mm512_set1_ps(a); }
static inline AVX512 v16 mul(v16 a, v16 b) { return _mm512_mul_ps(a, b); }
static inline AVX512 v16 add(v16 a, v16 b) { return _mm512_add_ps(a, b); }
static inline AVX512 v16 sub(v16 a, v16 b) { return _mm512_sub_ps(a, b); }
static inline AVX512 __mmask16 tail(int count) { return (__mmask16)((1u << count) - 1u); }

// exp as VectorMath.exp: clamp to [−87.3, 88.3], x = n·ln2 + r, degree-6 polynomial, 2ⁿ by exponent bits, 0 below −87.3.
static inline AVX512 v16 exp16(v16 x) {
    const v16 low = splat(-87.3f), high = splat(88.3f);
    __mmask16 below = _mm512_cmp_ps_mask(x, low, _CMP_LT_OQ);
    v16 clamped = _mm512_mask_blend_ps(below, x, low);
    clamped = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(clamped, high, _CMP_GT_OQ), clamped, high);
    const v16 magic = splat(12582912.0f);
    v16 shifted = add(mul(clamped, splat(1.44269504f)), magic);
    v16 n = sub(shifted, magic);
    v16 r = sub(sub(clamped, mul(n, splat(0.69314575f))), mul(n, splat(1.4286068e-6f)));
    v16 p = splat(1.0f / 720);
    p = add(mul(p, r), splat(1.0f / 120));
    p = add(mul(p, r), splat(1.0f / 24));
    p = add(mul(p, r), splat(1.0f / 6));
    p = add(mul(p, r), splat(0.5f));
    p = add(mul(p, r), splat(1.0f));
    p = add(mul(p, r), splat(1.0f));
    __m512i integer = _mm512_sub_epi32(_mm512_castps_si512(shifted), _mm512_set1_epi32(0x4B400000));
    v16 scale = _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_add_epi32(integer, _mm512_set1_epi32(127)), 23));
    return _mm512_mask_blend_ps(below, mul(p, scale), _mm512_setzero_ps());
}

static inline AVX512 v16 sigmoid16(v16 x) {
    v16 e = exp16(sub(_mm512_setzero_ps(), x));
    return _mm512_div_ps(splat(1.0f), add(splat(1.0f), e));
}

static inline AVX512 v16 erf16(v16 x) {
    __mmask16 negative = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_LT_OQ);
    v16 a = _mm512_mask_blend_ps(negative, x, sub(_mm512_setzero_ps(), x));
    v16 t = _mm512_div_ps(splat(1.0f), add(splat(1.0f), mul(splat(0.3275911f), a)));
    v16 p = splat(1.061405429f);
    p = sub(mul(p, t), splat(1.453152027f));
    p = add(mul(p, t), splat(1.421413741f));
    p = sub(mul(p, t), splat(0.284496736f));
    p = add(mul(p, t), splat(0.254829592f));
    v16 y = sub(splat(1.0f), mul(mul(p, t), exp16(mul(sub(_mm512_setzero_ps(), a), a))));
    return _mm512_mask_blend_ps(negative, y, sub(_mm512_setzero_ps(), y));
}

AVX512 float pleat512_exp_shift_sum(float *row, int count, float shift) {
    v16 sum = _mm512_setzero_ps(), m = splat(shift);
    int j = 0;
    for (; j + 16 <= count; j += 16) {
        v16 e = exp16(sub(_mm512_loadu_ps(row + j), m));
        _mm512_storeu_ps(row + j, e);
        sum = add(sum, e);
    }
    if (j < count) {
        __mmask16 k = tail(count - j);
        v16 e = exp16(sub(_mm512_maskz_loadu_ps(k, row + j), m));
        _mm512_mask_storeu_ps(row + j, k, e);
        sum = add(sum, _mm512_maskz_mov_ps(k, e));
    }
    return _mm512_reduce_add_ps(sum);
}

AVX512 void pleat512_silu_row(const float *x, float *out, int n, int visible, float scale) {
    v16 s = splat(scale);
    for (int j = 0; j < visible; j += 16) {
        __mmask16 k = visible - j >= 16 ? (__mmask16)0xFFFF : tail(visible - j);
        v16 v = _mm512_maskz_loadu_ps(k, x + j);
        _mm512_mask_storeu_ps(out + j, k, mul(mul(v, sigmoid16(v)), s));
    }
    for (int j = visible; j < n; j++) out[j] = 0;
}

AVX512 void pleat512_silu_gradient_row(const float *x, float *g, int n, int visible, float scale) {
    v16 s = splat(scale), one = splat(1.0f);
    for (int j = 0; j < visible; j += 16) {
        __mmask16 k = visible - j >= 16 ? (__mmask16)0xFFFF : tail(visible - j);
        v16 v = _mm512_maskz_loadu_ps(k, x + j), sg = sigmoid16(v);
        v16 d = mul(mul(mul(_mm512_maskz_loadu_ps(k, g + j), sg), add(one, mul(v, sub(one, sg)))), s);
        _mm512_mask_storeu_ps(g + j, k, d);
    }
    for (int j = visible; j < n; j++) g[j] = 0;
}

AVX512 void pleat512_gelu_row(const float *x, float *out, int n) {
    for (int j = 0; j < n; j += 16) {
        __mmask16 k = n - j >= 16 ? (__mmask16)0xFFFF : tail(n - j);
        v16 v = _mm512_maskz_loadu_ps(k, x + j);
        v16 y = mul(mul(splat(0.5f), v), add(splat(1.0f), erf16(mul(v, splat(0.70710678f)))));
        _mm512_mask_storeu_ps(out + j, k, y);
    }
}

AVX512 void pleat512_gelu_gradient_row(const float *x, const float *dy, float *dx, int n) {
    for (int j = 0; j < n; j += 16) {
        __mmask16 k = n - j >= 16 ? (__mmask16)0xFFFF : tail(n - j);
        v16 v = _mm512_maskz_loadu_ps(k, x + j);
        v16 cdf = mul(splat(0.5f), add(splat(1.0f), erf16(mul(v, splat(0.70710678f)))));
        v16 pdf = mul(mul(v, exp16(mul(mul(splat(-0.5f), v), v))), splat(0.39894228f));
        _mm512_mask_storeu_ps(dx + j, k, mul(_mm512_maskz_loadu_ps(k, dy + j), add(cdf, pdf)));
    }
}

AVX512 int pleat512_first_above(const float *row, int count, float threshold) {
    const v16 t = splat(threshold);
    int j = 0;
    for (; j + 16 <= count; j += 16) {
        __mmask16 above = _mm512_cmp_ps_mask(_mm512_loadu_ps(row + j), t, _CMP_GT_OQ);
        if (above) return j + __builtin_ctz(above);
    }
    if (j < count) {
        __mmask16 above = _mm512_mask_cmp_ps_mask(tail(count - j), _mm512_maskz_loadu_ps(tail(count - j), row + j), t, _CMP_GT_OQ);
        if (above) return j + __builtin_ctz(above);
    }
    return count;
}

AVX512 void pleat512_adam_row(float *theta, const float *g, float *m, float *v, int n, float beta1, float beta2,
                              float lr, float wd, int decoupled, float c1, float c2, float epsilon) {
    const v16 b1 = splat(beta1), b2 = splat(beta2), a1 = splat(1 - beta1), a2 = splat(1 - beta2);
    const v16 rate = splat(lr), decay = splat(wd), shrink = splat(1 - lr * wd);
    const v16 k1 = splat(c1), k2 = splat(c2), eps = splat(epsilon);
    for (int j = 0; j < n; j += 16) {
        __mmask16 k = n - j >= 16 ? (__mmask16)0xFFFF : tail(n - j);
        v16 t = _mm512_maskz_loadu_ps(k, theta + j), grad = _mm512_maskz_loadu_ps(k, g + j);
        v16 first = _mm512_maskz_loadu_ps(k, m + j), second = _mm512_maskz_loadu_ps(k, v + j);
        if (!decoupled) grad = add(grad, mul(decay, t));
        first = add(mul(b1, first), mul(a1, grad));
        second = add(mul(b2, second), mul(mul(a2, grad), grad));
        if (decoupled) t = mul(t, shrink);
        v16 denominator = add(_mm512_sqrt_ps(_mm512_div_ps(second, k2)), eps);
        t = sub(t, _mm512_div_ps(mul(rate, _mm512_div_ps(first, k1)), denominator));
        _mm512_mask_storeu_ps(theta + j, k, t);
        _mm512_mask_storeu_ps(m + j, k, first);
        _mm512_mask_storeu_ps(v + j, k, second);
    }
}
