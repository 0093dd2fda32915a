// The vectorised inner loops behind MatMul and attention, one table per ISA.
// Each table is compiled from the same source (dot_kernels_impl.inc) with
// that ISA's compiler flags; Kernels() hands out the one for the CPU, so the
// callers (matmul.cc, vnni_matvec.cc, sparse FFN) never test CPU features.
//
// Weight rows: bf16 [cols]; int8 [cols] with f32 scales [cols / 32]; int4
// [cols / 2] bytes (Q4_0 nibble order, see weight_matrix.h) with scales.
#pragma once

#include <cstdint>

#include "absl/status/status.h"
#include "common/kernels/cpu_isa.h"

namespace gemma3n {

// Rows of x a group kernel multiplies per pass over a weight row.
inline constexpr int kDotGroup = 8;

// A row of x quantized to int8 per 32-block (x ~= scale * q) and laid out
// for the VNNI kernels; made once per product (vnni_matvec.cc) and reused
// for every weight row. blocks = cols / 32.
struct VnniRow {
  const int8_t* q;            // [cols]
  const float* scale;         // [blocks]
  const int32_t* sum;         // [blocks] sum of q over the block
  const uint8_t* q_plus128;   // [cols] q + 128: vpdpbusd's unsigned operand (int8 weights)
  const float* scale_pairs;   // [blocks / 2 * 16] scale of block 2p in lanes 0-7, 2p+1 in 8-15
  const int8_t* int4_order;   // per 4 blocks: elements 0-15 of each, then 16-31 of each (128)
  const int32_t* int4_bias;   // [blocks / 4 * 16] -2 * sum of block 4g + lane / 4
  const float* scale_quads;   // [blocks / 4 * 16] scale of block 4g + lane / 4
};

// 16 rows of an int8 / int4 weight matrix repacked for VnniGemmPanel:
// weights [blocks][8][16][4] as w + 128, scales
// [blocks][16] (0 for rows past the matrix's end).
struct VnniPanel {
  const uint8_t* weights;
  const float* scales;
};

struct DotKernels {
  Isa isa;
  // sum_i x[i] * w[i]
  float (*dot_f32)(const float* x, const float* w, int64_t n);
  float (*dot_bf16)(const float* x, const uint16_t* w, int64_t n);
  float (*dot_int8)(const float* x, const int8_t* q, const float* scale, int64_t n);
  float (*dot_int4)(const float* x, const uint8_t* q, const float* scale, int64_t n);
  // The bf16 decode path: x reordered once per product (prepare_bf16, out
  // [n]) so that each weight load widens in two ops; then dot products with
  // the reordered x, of one row or of a group of rows.
  void (*prepare_bf16)(const float* x, int64_t n, float* out);
  float (*dot_bf16_prepared)(const float* xp, const uint16_t* w, int64_t n);
  void (*dot_bf16_group_prepared)(const float* xp, int64_t ldx, int group, const uint16_t* w, int64_t n, float* y,
                                  int64_t ldy);
  // y[t * ldy] = dot(x + t * ldx, w) for t < group <= kDotGroup: each weight
  // is widened once for all rows (batched decoding).
  void (*dot_int8_group)(const float* x, int64_t ldx, int group, const int8_t* q, const float* scale, int64_t n,
                         float* y, int64_t ldy);
  void (*dot_int4_group)(const float* x, int64_t ldx, int group, const uint8_t* q, const float* scale, int64_t n,
                         float* y, int64_t ldy);
  // out[i] = w[i] as f32 (dequantized for the int formats): prompt GEMMs
  // widen blocks of W for sgemm.
  void (*widen_bf16)(const uint16_t* w, int64_t n, float* out);
  void (*widen_int8)(const int8_t* q, const float* scale, int64_t n, float* out);
  void (*widen_int4)(const uint8_t* q, const float* scale, int64_t n, float* out);
  // y[i] += a * w[i] (one row of a transposed matrix: the sparse FFN's down
  // projection adds the surviving channels' rows).
  void (*axpy_f32)(float a, const float* w, int64_t n, float* y);
  void (*axpy_bf16)(float a, const uint16_t* w, int64_t n, float* y);
  void (*axpy_int8)(float a, const int8_t* q, const float* scale, int64_t n, float* y);
  void (*axpy_int4)(float a, const uint8_t* q, const float* scale, int64_t n, float* y);
  // Integer dot products of a weight row with a prepared activation row;
  // null where the CPU has no VNNI. blocks = n / 32.
  float (*vnni_dot_int8)(const int8_t* w, const float* w_scale, const VnniRow& x, int64_t blocks);
  float (*vnni_dot_int4)(const uint8_t* w, const float* w_scale, const VnniRow& x, int64_t blocks);
  // Prompts: y[t * ldy + r] = x[t] . row r of the panel, for t < n and the
  // panel's first `rows` (<= 16) rows.
  void (*vnni_gemm_panel)(const VnniPanel& panel, int64_t blocks, const VnniRow* x, int64_t n, float* y, int64_t ldy,
                          int rows);
};

// The kernels in use: DefaultIsa() unless changed by SetKernelIsa.
const DotKernels& Kernels();

// Switches every later kernel call to `isa` (tests compare the paths; not
// for use while kernels run). FailedPrecondition when the CPU lacks it.
absl::Status SetKernelIsa(Isa isa);

// The per-ISA tables (defined in dot_kernels_avx2.cc / dot_kernels_avx512.cc).
namespace avx2 {
const DotKernels& Table();
}
namespace avx512 {
const DotKernels& Table();
}

}  // namespace gemma3n
