// int8 / int4 text weights converted once and cached (the file format is in
// common/kernels/weight_cache_file.h): where the cache of a model lives, when it may be
// used, and the load step that maps it or converts and writes it.
//
// Where, for cache_dir:
//   ""     <model_dir>/gemma3n-cache/text-FORMAT.safetensors, and when that
//          cannot be written (read-only model directory)
//          ${XDG_CACHE_HOME:-~/.cache}/gemma3n-grpc/weights/MODEL/text-FORMAT.safetensors
//   "none" no cache: convert at every load
//   DIR    DIR/MODEL/text-FORMAT.safetensors
// MODEL = <model directory name>-<16 hex digits of the sha256 of its
// absolute path>, so one cache directory serves several models. A cache is
// used only when its key (WeightCacheKey) is the checkpoint's now; a stale
// or corrupt one is a warning, converted again and overwritten.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/checkpoint/checkpoint.h"
#include "common/kernels/quantize.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

// How one load obtained its converted weights.
struct WeightCacheReport {
  bool from_cache = false;  // mapped from `path`: nothing was converted
  bool written = false;     // converted, then written to `path`
  std::string path;         // the cache file used or written; empty if neither
  double seconds = 0;       // reading the cache, or converting (not writing)
  int64_t bytes = 0;        // of the converted matrices
};

// The candidate cache files, in order of preference (empty for "none").
std::vector<std::string> WeightCachePaths(const std::string& model_dir, const std::string& cache_dir,
                                          WeightFormat format);

// What the converted weights derive from: for each safetensors file the text
// core reads, its name, size and mtime; the sha256 of config.json (as parsed);
// the block size, the format, and the layout of `w` that shapes alone do not
// tell (which layers keep down_proj transposed). Compact JSON.
absl::StatusOr<std::string> WeightCacheKey(const Checkpoint& ckpt, const TextWeights& w, WeightFormat format);

// Converts ConvertibleMatrices(w) (just loaded from `ckpt`, data not read) to
// `format`: from the first valid cache file (the bf16 matrices are then never
// read), else by quantizing them and writing the cache to the first candidate
// that takes it. Cache problems are warnings in the log, never errors.
// preload: copy cached weights into memory instead of mapping the file.
// pending: the sparse layers' transposes (PlanSparseDownTransposes), done
// here only when the matrices do not come from the cache (and for bf16).
absl::StatusOr<WeightCacheReport> ConvertTextWeightsCached(ThreadPool& pool, const Checkpoint& ckpt, TextWeights& w,
                                                           PendingTransposes& pending, WeightFormat format,
                                                           const std::string& cache_dir, bool preload);

}  // namespace gemma3n
