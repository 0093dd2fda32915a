// The per-layer embedding table as the PLE service owns it:
// embed_tokens_per_layer [vocab_size_per_layer_input, layers * ple_dim], bf16,
// read through the checkpoint's mapping (only the pages of rows actually used
// become resident), with an optional hot-row cache in RAM (row_cache.h) and
// counters for GetStats. Rows are raw (unscaled), as PerLayerEmbeddings says:
// the text model applies the sqrt(ple_dim) scale. Thread-safe: one service
// thread per attached client calls Lookup concurrently.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/checkpoint/checkpoint.h"
#include "common/embedder/per_layer_embeddings.h"
#include "common/kernels/weight_matrix.h"
#include "ple_service/row_cache.h"

namespace gemma3n::ple {

struct PleTableStats {
  int64_t lookups = 0;       // Lookup calls
  int64_t rows = 0;          // ids looked up
  int64_t cache_hits = 0;    // rows served from the cache (0 while the cache is off)
  int64_t cache_misses = 0;  // rows read from the table while the cache is on
  int64_t cache_bytes = 0;
  int64_t cache_limit_bytes = 0;
  int64_t table_bytes = 0;           // the table as stored (bf16: vocab * width * 2)
  int64_t table_resident_bytes = 0;  // of those, pages in RAM (mincore)
};

class PleTable : public PerLayerEmbeddings {
 public:
  // Maps only the table tensor of the checkpoint in `model_dir`; its shape is
  // checked against config.json (text_config: vocab_size_per_layer_input,
  // num_hidden_layers * hidden_size_per_layer_input). cache_limit_bytes 0 =
  // no cache. Errors name the directory or file.
  static absl::StatusOr<std::unique_ptr<PleTable>> Open(const std::string& model_dir, int64_t cache_limit_bytes);

  int64_t row_width() const override { return table_.cols; }
  int64_t vocab() const { return table_.rows; }
  // ids [n] in [0, vocab) -> out [n, row_width]; InvalidArgument naming the
  // first bad id (and its position) before anything is read.
  absl::Status Lookup(absl::Span<const int> ids, float* out) const override;

  PleTableStats Stats() const;

 private:
  PleTable() = default;
  int64_t TableBytes() const;
  int64_t ResidentBytes() const;

  std::unique_ptr<Checkpoint> ckpt_;
  WeightMatrix table_;
  std::unique_ptr<RowCache> cache_;  // null when off
  mutable std::atomic<int64_t> lookups_{0}, rows_{0}, hits_{0}, misses_{0};
};

}  // namespace gemma3n::ple
