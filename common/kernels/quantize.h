// Weight formats chosen at load time. bf16 is the checkpoint's own (read in
// place from the mapping); int8 and int4 are block-quantized once at load: 32
// weights share an f32 scale (9 and 5 bits per weight).
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

enum class WeightFormat { kBf16, kInt8, kInt4 };

// "bf16" | "int8" | "int4"; InvalidArgument naming the choices otherwise.
absl::StatusOr<WeightFormat> ParseWeightFormat(const std::string& name);
const char* WeightFormatName(WeightFormat f);

// One block of kInt8Block values -> q[i] = round(v[i] / scale) in
// [-levels, levels] with scale = max |v| / levels (0 for an all-zero block);
// returns the scale. Weights (levels 127 or 7) and, for the VNNI kernels,
// activations (127) are quantized by this one rule.
float QuantizeBlock(const float* v, float levels, int8_t* q);

// w (bf16 or f32, cols a multiple of kInt8Block) -> int8 with per-block
// scales (max |w| / 127 per block, round to nearest). release_source: the
// source is a read-only file mapping nothing else will read; its resident
// pages are dropped from this process afterwards.
absl::StatusOr<WeightMatrix> QuantizeInt8(ThreadPool& pool, const WeightMatrix& w, bool release_source);
// The same with 4-bit weights (scale max |w| / 7, 5 bits per weight with the
// f32 scales).
absl::StatusOr<WeightMatrix> QuantizeInt4(ThreadPool& pool, const WeightMatrix& w, bool release_source);

// w (bf16 or f32 [rows, cols]) -> its transpose [cols, rows] in the same
// format, in memory
// (the activation-sparse FFN keeps its down projection this way).
absl::StatusOr<WeightMatrix> TransposeWeights(ThreadPool& pool, const WeightMatrix& w, bool release_source);

}  // namespace gemma3n
