#include "ckernels.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

long rft_packed_size(int n, int k) { return (long)((n + 15) / 16) * 16 * k; }

void rft_pack_panels(const float *w, int n, int k, int ldw, float *out) {
    int panels = (n + 15) / 16;
    for (int p = 0; p < panels; p++) {
        float *panel = out + (long)p * k * 16;
        for (int j = 0; j < 16; j++) {  /* one weight row into lane j of every group: reads in order */
            int row = p * 16 + j;
            const float *wr = w + (long)row * ldw;
            if (row < n) for (int i = 0; i < k; i++) panel[i * 16 + j] = wr[i];
            else for (int i = 0; i < k; i++) panel[i * 16 + j] = 0.0f;
        }
    }
}

/* Stores the 16 lanes acc[0..16) of panel p into row c, adding c's values when accumulating;
 * only the columns below n. */
static inline void store16(float *c, const float *acc, int cols, int accumulate) {
    for (int j = 0; j < cols; j++) c[j] = accumulate ? c[j] + acc[j] : acc[j];
}

static void gemm_generic(int m, int n, int k, const float *x, int ldx, const float *packed,
                         float *c, int ldc, int accumulate) {
    int panels = (n + 15) / 16;
    for (int r = 0; r < m; r++) {
        const float *xr = x + (long)r * ldx;
        for (int p = 0; p < panels; p++) {
            const float *w = packed + (long)p * k * 16;
            float acc[16] = {0};
            for (int i = 0; i < k; i++)
                for (int j = 0; j < 16; j++) acc[j] += xr[i] * w[i * 16 + j];
            int cols = n - p * 16 < 16 ? n - p * 16 : 16;
            store16(c + (long)r * ldc + p * 16, acc, cols, accumulate);
        }
    }
}

#if defined(__x86_64__)
/* AVX-512: blocks of 8 rows x 2 panels (32 outputs), 16 accumulators; one row of x is broadcast
 * against two panel vectors per k. Panels outside, rows inside: a panel pair stays in L1 while
 * every row block reads it. */
__attribute__((target("avx512f")))
static void gemm_avx512(int m, int n, int k, const float *x, int ldx, const float *packed,
                        float *c, int ldc, int accumulate) {
    int panels = (n + 15) / 16;
    for (int p = 0; p < panels; p += 2) {
        int two = p + 1 < panels;
        for (int r0 = 0; r0 < m; r0 += 8) {
            int rows = m - r0 < 8 ? m - r0 : 8;
            const float *xb = x + (long)r0 * ldx;
            const float *w0 = packed + (long)p * k * 16, *w1 = two ? w0 + (long)k * 16 : w0;
            __m512 a0[8], a1[8];
            for (int r = 0; r < 8; r++) { a0[r] = _mm512_setzero_ps(); a1[r] = _mm512_setzero_ps(); }
            if (rows == 8) {
                for (int i = 0; i < k; i++) {
                    __m512 b0 = _mm512_loadu_ps(w0 + i * 16), b1 = _mm512_loadu_ps(w1 + i * 16);
                    for (int r = 0; r < 8; r++) {
                        __m512 xv = _mm512_set1_ps(xb[(long)r * ldx + i]);
                        a0[r] = _mm512_fmadd_ps(xv, b0, a0[r]);
                        a1[r] = _mm512_fmadd_ps(xv, b1, a1[r]);
                    }
                }
            } else {
                for (int i = 0; i < k; i++) {
                    __m512 b0 = _mm512_loadu_ps(w0 + i * 16), b1 = _mm512_loadu_ps(w1 + i * 16);
                    for (int r = 0; r < rows; r++) {
                        __m512 xv = _mm512_set1_ps(xb[(long)r * ldx + i]);
                        a0[r] = _mm512_fmadd_ps(xv, b0, a0[r]);
                        a1[r] = _mm512_fmadd_ps(xv, b1, a1[r]);
                    }
                }
            }
            int cols0 = n - p * 16 < 16 ? n - p * 16 : 16;
            int cols1 = two ? (n - (p + 1) * 16 < 16 ? n - (p + 1) * 16 : 16) : 0;
            __mmask16 k0 = (__mmask16)((1u << cols0) - 1), k1 = (__mmask16)((1u << cols1) - 1);
            for (int r = 0; r < rows; r++) {
                float *cr = c + (long)(r0 + r) * ldc + p * 16;
                __m512 v0 = a0[r], v1 = a1[r];
                if (accumulate) {
                    v0 = _mm512_add_ps(_mm512_maskz_loadu_ps(k0, cr), v0);
                    if (two) v1 = _mm512_add_ps(_mm512_maskz_loadu_ps(k1, cr + 16), v1);
                }
                _mm512_mask_storeu_ps(cr, k0, v0);
                if (two) _mm512_mask_storeu_ps(cr + 16, k1, v1);
            }
        }
    }
}

/* AVX2 + FMA: blocks of 4 rows x 1 panel (16 outputs, two 8-lane halves), 8 accumulators;
 * panels outside, rows inside. */
__attribute__((target("avx2,fma")))
static void gemm_avx2(int m, int n, int k, const float *x, int ldx, const float *packed,
                      float *c, int ldc, int accumulate) {
    int panels = (n + 15) / 16;
    for (int p = 0; p < panels; p++) {
        for (int r0 = 0; r0 < m; r0 += 4) {
            int rows = m - r0 < 4 ? m - r0 : 4;
            const float *xb = x + (long)r0 * ldx;
            const float *w = packed + (long)p * k * 16;
            __m256 lo[4], hi[4];
            for (int r = 0; r < 4; r++) { lo[r] = _mm256_setzero_ps(); hi[r] = _mm256_setzero_ps(); }
            for (int i = 0; i < k; i++) {
                __m256 b0 = _mm256_loadu_ps(w + i * 16), b1 = _mm256_loadu_ps(w + i * 16 + 8);
                for (int r = 0; r < rows; r++) {
                    __m256 xv = _mm256_broadcast_ss(xb + (long)r * ldx + i);
                    lo[r] = _mm256_fmadd_ps(xv, b0, lo[r]);
                    hi[r] = _mm256_fmadd_ps(xv, b1, hi[r]);
                }
            }
            int cols = n - p * 16 < 16 ? n - p * 16 : 16;
            for (int r = 0; r < rows; r++) {
                float acc[16];
                _mm256_storeu_ps(acc, lo[r]);
                _mm256_storeu_ps(acc + 8, hi[r]);
                store16(c + (long)(r0 + r) * ldc + p * 16, acc, cols, accumulate);
            }
        }
    }
}
#endif

/* ---- element-wise work of the decode step ---- */

static void swiglu_generic(float *out, const float *gate_up, int n, int f) {
    for (int r = 0; r < n; r++) {
        const float *g = gate_up + (long)r * 2 * f, *u = g + f;
        float *y = out + (long)r * f;
        for (int i = 0; i < f; i++) y[i] = g[i] / (1.0f + expf(-g[i])) * u[i];
    }
}

static void attend_generic(float *out, const float *q, const float *k0, const float *v0, int n0,
                           const float *k1, const float *v1, int n1, int hd, float scale, float *scores) {
    int n = n0 + n1;
    float mx = -INFINITY, sum = 0;
    for (int j = 0; j < n; j++) {
        const float *k = j < n0 ? k0 + (long)j * hd : k1 + (long)(j - n0) * hd;
        float s = 0;
        for (int i = 0; i < hd; i++) s += q[i] * k[i];
        scores[j] = s * scale;
        if (scores[j] > mx) mx = scores[j];
    }
    for (int j = 0; j < n; j++) { scores[j] = expf(scores[j] - mx); sum += scores[j]; }
    for (int i = 0; i < hd; i++) out[i] = 0;
    for (int j = 0; j < n; j++) {
        const float *v = j < n0 ? v0 + (long)j * hd : v1 + (long)(j - n0) * hd;
        float p = scores[j] / sum;
        for (int i = 0; i < hd; i++) out[i] += p * v[i];
    }
}

#if defined(__x86_64__)
/* e^x per lane: 2^n * e^r with |r| <= ln2/2 and a degree-6 polynomial (the constants of the
 * model's Swift fastExp), inputs clamped to [-87, 88]. */
__attribute__((target("avx512f")))
static inline __m512 exp512(__m512 x) {
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.0f)), _mm512_set1_ps(88.0f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504f)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.98756915e-4f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.39819995e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.33345190e-3f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.16657959e-2f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.66666655e-1f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.00000012e-1f));
    __m512 y = _mm512_add_ps(_mm512_fmadd_ps(_mm512_mul_ps(p, r), r, r), _mm512_set1_ps(1.0f));
    return _mm512_scalef_ps(y, n);
}

__attribute__((target("avx512f")))
static void swiglu_avx512(float *out, const float *gate_up, int n, int f) {
    __m512 one = _mm512_set1_ps(1.0f);
    for (int r = 0; r < n; r++) {
        const float *g = gate_up + (long)r * 2 * f, *u = g + f;
        float *y = out + (long)r * f;
        for (int i = 0; i < f; i += 16) {
            __mmask16 m = f - i >= 16 ? 0xFFFF : (__mmask16)((1u << (f - i)) - 1);
            __m512 gv = _mm512_maskz_loadu_ps(m, g + i), uv = _mm512_maskz_loadu_ps(m, u + i);
            __m512 sig = _mm512_div_ps(one, _mm512_add_ps(one, exp512(_mm512_sub_ps(_mm512_setzero_ps(), gv))));
            _mm512_mask_storeu_ps(y + i, m, _mm512_mul_ps(_mm512_mul_ps(gv, sig), uv));
        }
    }
}

/* Lane j of the result = the sum of the 16 lanes of in[slot(j)], slot(j) = 4 (j % 4) + j / 4,
 * added in the order _mm512_reduce_add_ps adds them (256-bit halves, then 128-bit quarters, then
 * pairs, then the last two): a score is bitwise the one a reduce per key gives, in about a third
 * of the shuffles and adds. */
__attribute__((target("avx512f")))
static inline __m512 sum16(const __m512 *in) {
    __m512 u[8], w[4], z[2];
    for (int i = 0; i < 8; i++)   /* halves: [a c0+c2, a c1+c3, b c0+c2, b c1+c3] */
        u[i] = _mm512_add_ps(_mm512_shuffle_f32x4(in[2 * i], in[2 * i + 1], _MM_SHUFFLE(1, 0, 1, 0)),
                             _mm512_shuffle_f32x4(in[2 * i], in[2 * i + 1], _MM_SHUFFLE(3, 2, 3, 2)));
    for (int m = 0; m < 4; m++)   /* quarters: one slot per 128-bit chunk, 4 partial lanes each */
        w[m] = _mm512_add_ps(_mm512_shuffle_f32x4(u[2 * m], u[2 * m + 1], _MM_SHUFFLE(2, 0, 2, 0)),
                             _mm512_shuffle_f32x4(u[2 * m], u[2 * m + 1], _MM_SHUFFLE(3, 1, 3, 1)));
    for (int i = 0; i < 2; i++) { /* pairs: e0+e2, e1+e3 */
        __m512d a = _mm512_castps_pd(w[2 * i]), b = _mm512_castps_pd(w[2 * i + 1]);
        z[i] = _mm512_add_ps(_mm512_castpd_ps(_mm512_unpacklo_pd(a, b)), _mm512_castpd_ps(_mm512_unpackhi_pd(a, b)));
    }
    return _mm512_add_ps(_mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(z[0], z[1], _MM_SHUFFLE(3, 1, 3, 1)));
}

/* Dot products of q with each row of k [len, hd], scaled, into s; hd <= 64 in registers.
 * Sixteen keys at a time: one product vector per key, summed across lanes together (sum16). */
__attribute__((target("avx512f"), always_inline))
static inline void scores512(float *s, const __m512 *qv, const __mmask16 *mk, int chunks,
                             const float *k, int len, int hd, float scale) {
    __m512 sc = _mm512_set1_ps(scale);
    for (int j0 = 0; j0 < len; j0 += 16) {
        int keys = len - j0 < 16 ? len - j0 : 16;
        __m512 acc[16];
        for (int j = 0; j < 16; j++) {
            int slot = 4 * (j % 4) + j / 4;
            if (j >= keys) { acc[slot] = _mm512_setzero_ps(); continue; }
            const float *kj = k + (long)(j0 + j) * hd;
            __m512 a = _mm512_mul_ps(qv[0], _mm512_maskz_loadu_ps(mk[0], kj));
            for (int c = 1; c < chunks; c++) a = _mm512_fmadd_ps(qv[c], _mm512_maskz_loadu_ps(mk[c], kj + 16 * c), a);
            acc[slot] = a;
        }
        __mmask16 m = keys == 16 ? 0xFFFF : (__mmask16)((1u << keys) - 1);
        _mm512_mask_storeu_ps(s + j0, m, _mm512_mul_ps(sum16(acc), sc));
    }
}

/* acc[c] += p[j] * v[j] over the rows of v [len, hd]. */
__attribute__((target("avx512f"), always_inline))
static inline void weighted512(__m512 *acc, const __mmask16 *mk, int chunks, const float *p, const float *v, int len, int hd) {
    for (int j = 0; j < len; j++) {
        __m512 pj = _mm512_set1_ps(p[j]);
        const float *vj = v + (long)j * hd;
        for (int c = 0; c < chunks; c++) acc[c] = _mm512_fmadd_ps(pj, _mm512_maskz_loadu_ps(mk[c], vj + 16 * c), acc[c]);
    }
}

/* One attention row with hd <= 16 * chunks; always inlined with a constant chunks, so the query and
 * accumulator arrays live in registers. */
__attribute__((target("avx512f"), always_inline))
static inline void attend512(float *out, const float *q, const float *k0, const float *v0, int n0,
                             const float *k1, const float *v1, int n1, int hd, float scale, float *scores,
                             int chunks) {
    int n = n0 + n1;
    __m512 qv[4], acc[4];
    __mmask16 mk[4];
    for (int c = 0; c < chunks; c++) {
        mk[c] = hd - 16 * c >= 16 ? 0xFFFF : (__mmask16)((1u << (hd - 16 * c)) - 1);
        qv[c] = _mm512_maskz_loadu_ps(mk[c], q + 16 * c);
        acc[c] = _mm512_setzero_ps();
    }
    scores512(scores, qv, mk, chunks, k0, n0, hd, scale);
    scores512(scores + n0, qv, mk, chunks, k1, n1, hd, scale);
    __m512 mx = _mm512_set1_ps(-INFINITY);
    for (int j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? 0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        mx = _mm512_max_ps(mx, _mm512_mask_loadu_ps(_mm512_set1_ps(-INFINITY), m, scores + j));
    }
    __m512 shift = _mm512_set1_ps(_mm512_reduce_max_ps(mx)), sum = _mm512_setzero_ps();
    for (int j = 0; j < n; j += 16) {
        __mmask16 m = n - j >= 16 ? 0xFFFF : (__mmask16)((1u << (n - j)) - 1);
        __m512 e = _mm512_maskz_mov_ps(m, exp512(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, scores + j), shift)));
        _mm512_mask_storeu_ps(scores + j, m, e);
        sum = _mm512_add_ps(sum, e);
    }
    __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
    weighted512(acc, mk, chunks, scores, v0, n0, hd);
    weighted512(acc, mk, chunks, scores + n0, v1, n1, hd);
    for (int c = 0; c < chunks; c++) _mm512_mask_storeu_ps(out + 16 * c, mk[c], _mm512_mul_ps(acc[c], inv));
}

__attribute__((target("avx512f")))
static void attend_avx512(float *out, const float *q, const float *k0, const float *v0, int n0,
                          const float *k1, const float *v1, int n1, int hd, float scale, float *scores) {
    switch ((hd + 15) / 16) {
    case 1: attend512(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores, 1); break;
    case 2: attend512(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores, 2); break;
    case 3: attend512(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores, 3); break;
    default: attend512(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores, 4); break;
    }
}
#endif

static int chosen = -1; /* 0 generic, 1 avx2, 2 avx512 */

static int choose(void) {
    int level = 0;
#if defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) level = 1;
    if (__builtin_cpu_supports("avx512f")) level = 2;
#endif
    const char *want = getenv("RFT_KERNELS");
    if (want && strcmp(want, "generic") == 0) level = 0;
    if (want && strcmp(want, "avx2") == 0 && level > 1) level = 1;
    return level;
}

static int level(void) {
    int l = __atomic_load_n(&chosen, __ATOMIC_RELAXED);
    if (l < 0) { l = choose(); __atomic_store_n(&chosen, l, __ATOMIC_RELAXED); }
    return l;
}

void rft_gemm_packed(int m, int n, int k, const float *x, int ldx, const float *packed,
                     float *c, int ldc, int accumulate) {
    if (m <= 0 || n <= 0) return;
#if defined(__x86_64__)
    switch (level()) {
    case 2: gemm_avx512(m, n, k, x, ldx, packed, c, ldc, accumulate); return;
    case 1: gemm_avx2(m, n, k, x, ldx, packed, c, ldc, accumulate); return;
    default: break;
    }
#endif
    gemm_generic(m, n, k, x, ldx, packed, c, ldc, accumulate);
}

void rft_swiglu(float *out, const float *gate_up, int n, int f) {
#if defined(__x86_64__)
    if (level() == 2) { swiglu_avx512(out, gate_up, n, f); return; }
#endif
    swiglu_generic(out, gate_up, n, f);
}

void rft_attend(float *out, const float *q, const float *k0, const float *v0, int n0,
                const float *k1, const float *v1, int n1, int hd, float scale, float *scores) {
#if defined(__x86_64__)
    if (level() == 2 && hd <= 64) { attend_avx512(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores); return; }
#endif
    attend_generic(out, q, k0, v0, n0, k1, v1, n1, hd, scale, scores);
}

const char *rft_kernels_force(const char *isa) {
    int best = choose(), want = best;
    if (isa && strcmp(isa, "generic") == 0) want = 0;
    if (isa && strcmp(isa, "avx2") == 0) want = 1;
    if (isa && strcmp(isa, "avx512") == 0) want = 2;
    __atomic_store_n(&chosen, want < best ? want : best, __ATOMIC_RELAXED);
    return rft_kernels_isa();
}

const char *rft_kernels_isa(void) {
    switch (level()) {
    case 2: return "avx512";
    case 1: return "avx2";
    default: return "generic";
    }
}
