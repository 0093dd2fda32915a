#include "common/embedder/per_layer_embeddings.h"

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace gemma3n {

absl::StatusOr<std::unique_ptr<CheckpointPerLayerEmbeddings>> CheckpointPerLayerEmbeddings::Open(
    const std::string& model_dir, int64_t vocab, int64_t row_width) {
  auto p = std::unique_ptr<CheckpointPerLayerEmbeddings>(new CheckpointPerLayerEmbeddings());
  ASSIGN_OR_RETURN(p->ckpt_, Checkpoint::Open(model_dir, {kPerLayerTableName}));
  ASSIGN_OR_RETURN(p->table_, LoadWeightMatrix(*p->ckpt_, kPerLayerTableName, vocab, row_width));
  return p;
}

absl::Status CheckpointPerLayerEmbeddings::Lookup(absl::Span<const int> ids, float* out) const {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table_.rows) {
      return absl::InvalidArgumentError(
          absl::StrCat("per-layer embedding id ", ids[i], " outside [0, ", table_.rows, ")"));
    }
    table_.RowToF32(ids[i], out + i * table_.cols);
  }
  return absl::OkStatus();
}

}  // namespace gemma3n
