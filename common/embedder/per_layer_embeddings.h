// Source of per-layer embedding (PLE) rows: embed_tokens_per_layer
// [vocab_size_per_layer_input, layers * ple_dim], billions of parameters in the
// real model. Behind this interface so the table can live in another process
// (the PLE service, over shared memory) instead of in the text worker.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/checkpoint/checkpoint.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

class PerLayerEmbeddings {
 public:
  virtual ~PerLayerEmbeddings() = default;
  // Row width: layers * ple_dim.
  virtual int64_t row_width() const = 0;
  // ids [n], each in [0, vocab_size_per_layer_input) -> out [n, row_width],
  // the raw (unscaled) table rows.
  virtual absl::Status Lookup(absl::Span<const int> ids, float* out) const = 0;
};

// Reads the table straight from the checkpoint's mapping (in-process).
class CheckpointPerLayerEmbeddings : public PerLayerEmbeddings {
 public:
  static absl::StatusOr<std::unique_ptr<CheckpointPerLayerEmbeddings>> Open(const std::string& model_dir,
                                                                            int64_t vocab, int64_t row_width);
  int64_t row_width() const override { return table_.cols; }
  absl::Status Lookup(absl::Span<const int> ids, float* out) const override;

 private:
  std::unique_ptr<Checkpoint> ckpt_;
  WeightMatrix table_;
};

inline constexpr char kPerLayerTableName[] = "model.language_model.embed_tokens_per_layer.weight";

}  // namespace gemma3n
