#ifndef RFT_CKERNELS_H
#define RFT_CKERNELS_H
/* Decode-step matmuls on weights packed once per sampling call (TransformerModel/PackedWeights.swift).
 *
 * A weight matrix W [n, k] (row-major, one output per row) is packed into panels of 16 outputs:
 * panel p holds W[16p ..< 16p+16, 0 ..< k] as k groups of 16 floats (output fastest), zero-padded
 * past n. The product reads each panel once per block of rows with no per-call packing, which is
 * what OpenBLAS spends ~15% of a decode step on at 32-64 rows.
 *
 * Every output is one dot product accumulated in k order with fused multiply-adds, so a row's
 * result does not depend on how many rows are computed with it. The AVX-512 and AVX2 versions
 * are chosen at run time from the CPU; other CPUs run a plain C loop. */

/* Floats needed for the packed copy of an [n, k] matrix: ceil(n / 16) * 16 * k. */
long rft_packed_size(int n, int k);

/* Packs w [n, k] (row stride ldw) into out (rft_packed_size(n, k) floats). */
void rft_pack_panels(const float *w, int n, int k, int ldw, float *out);

/* c [m, n] (row stride ldc) = (accumulate ? c : 0) + x [m, k] (row stride ldx) . W^T, W packed. */
void rft_gemm_packed(int m, int n, int k, const float *x, int ldx, const float *packed,
                     float *c, int ldc, int accumulate);

/* The decode step's SwiGLU: out [n, f] = silu(gate) * up, with gate_up [n, 2f] (gate | up per row). */
void rft_swiglu(float *out, const float *gate_up, int n, int f);

/* One query row of one head against two runs of cached keys and values (each run [len, hd],
 * contiguous; a run may be empty): out [hd] = softmax(scale * q . k) . v over both runs in order.
 * scores: n0 + n1 floats of scratch. */
void rft_attend(float *out, const float *q, const float *k0, const float *v0, int n0,
                const float *k1, const float *v1, int n1, int hd, float scale, float *scores);

/* Which version the kernels run here: "avx512", "avx2" or "generic" (rft_swiglu and rft_attend
 * have AVX-512 and generic versions). RFT_KERNELS=generic
 * (or avx2) in the environment chooses a lower one. */
const char *rft_kernels_isa(void);

/* Makes the kernels run the given version ("avx512", "avx2", "generic") if this CPU has it, and
 * returns the version now in effect; NULL goes back to the CPU's best. For tests. */
const char *rft_kernels_force(const char *isa);

#endif
