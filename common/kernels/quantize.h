// Weight formats chosen at load time. bf16 is the checkpoint's own (read in
// place from the mapping); int8 is block-quantized once at load: 32 weights
// share an f32 scale, 8.5 bits per weight, half the bytes per generated token.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

enum class WeightFormat { kBf16, kInt8 };

// "bf16" | "int8"; InvalidArgument naming the choices otherwise.
absl::StatusOr<WeightFormat> ParseWeightFormat(const std::string& name);
const char* WeightFormatName(WeightFormat f);

// w (bf16 or f32, cols a multiple of kInt8Block) -> int8 with per-block
// scales (max |w| / 127 per block, round to nearest). release_source: the
// source is a read-only file mapping nothing else will read; its resident
// pages are dropped from this process afterwards.
absl::StatusOr<WeightMatrix> QuantizeInt8(const WeightMatrix& w, bool release_source);

}  // namespace gemma3n
