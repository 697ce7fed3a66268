#ifndef CPLEATKERNELS_H
#define CPLEATKERNELS_H

/// 16-lane AVX-512 versions of PleatTensor's element-wise row kernels (VectorMath), for CPUs that have
/// AVX-512F: the same arithmetic as the 8-lane Swift versions, operation for operation (separate
/// multiplies and adds, no fused multiply-add), so element-wise results are the same bits; only sums
/// over a row (exp-shift-and-sum) add in another order. Call only when the CPU has AVX-512F.

/// Writes exp(row[j] − shift) in place and returns their sum.
float pleat512_exp_shift_sum(float *row, int count, float shift);
/// out[j] = SiLU(x[j])·scale for j < visible, 0 up to n.
void pleat512_silu_row(const float *x, float *out, int n, int visible, float scale);
/// g[j] ← g[j]·SiLU′(x[j])·scale for j < visible, 0 up to n.
void pleat512_silu_gradient_row(const float *x, float *g, int n, int visible, float scale);
/// out[j] = GELU(x[j]) (erf form).
void pleat512_gelu_row(const float *x, float *out, int n);
/// dx[j] = dy[j]·GELU′(x[j]).
void pleat512_gelu_gradient_row(const float *x, const float *dy, float *dx, int n);
/// The offset of the first row[j] > threshold (NaN is not), or count.
int pleat512_first_above(const float *row, int count, float threshold);
/// One Adam step over n parameters, as Adam.step: m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g·g,
/// θ ← θ·(1 − lr·wd) when decoupled (else g ← g + wd·θ first), θ ← θ − lr·(m/c1)/(√(v/c2) + ε).
void pleat512_adam_row(float *theta, const float *g, float *m, float *v, int n, float beta1, float beta2,
                       float lr, float wd, int decoupled, float c1, float c2, float epsilon);

#endif
