// The file of a weight cache: matrices already converted to int8 or int4, so
// a later load maps them instead of quantizing billions of bf16 weights again
// (7-14 s for E2B on 2 cores). Where a model keeps its cache and what its key
// holds: text_worker/model/weight_cache.h.
//
// It is a safetensors file, written by WriteSafetensorsFile and mapped by the
// checkpoint's validated reader (read-only, MAP_PRIVATE: the page cache holds
// the weights, no copy). For each converted matrix NAME [rows, cols] (its
// checkpoint tensor name):
//   NAME          int8: I8 [rows, cols]; int4: U8 [rows, cols / 2] (two
//                 weights a byte, the order of WeightMatrix::Format::kInt4)
//   NAME.scales   F32 [rows, cols / kInt8Block]
// in the order given, each tensor's data 64-byte aligned in the file (zero
// bytes in between). The header's __metadata__ holds
//   gemma3n_weight_cache: kWeightCacheVersion, format: "int8" | "int4",
//   key: the identity of the source (WeightCacheKey; opaque here).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "common/kernels/quantize.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// Bump when the layout or the quantization rule changes: older files are then
// ignored and rewritten.
inline constexpr char kWeightCacheVersion[] = "1";

using NamedMatrices = std::vector<std::pair<std::string, WeightMatrix*>>;

// Lowercase hex sha256 of `bytes` (OpenSSL): what names a cache and its source.
std::string Sha256Hex(const std::string& bytes);

// Writes `matrices` (already in `format`, rows of exactly cols weights) to
// `path`: into a temporary file of the same directory, flushed to disk, then
// renamed over `path`, so no reader ever sees half a file. Creates the
// directory. Errors: the directory or the file cannot be written, too little
// free space, a write fails (the temporary file is removed).
absl::Status WriteWeightCache(const std::string& path, const std::string& key, WeightFormat format,
                              const NamedMatrices& matrices);

// Points every matrix of `matrices` (loaded from the checkpoint, so their
// shapes are known; their data is not read) into the cache file at `path`,
// if that file holds exactly these matrices (names, shapes) in `format` with
// `key`; else changes nothing and says why: NotFound when there is no file,
// FailedPrecondition for a cache of another key, format or version,
// DataLoss for a corrupt or truncated one. copy: copy the weights into
// process memory (--preload) instead of keeping the file mapped.
absl::Status ReadWeightCache(const std::string& path, const std::string& key, WeightFormat format,
                             const NamedMatrices& matrices, bool copy);

}  // namespace gemma3n
