// Gemma3nMultimodalEmbedder (model.embed_vision.* / model.embed_audio.*): maps
// an encoder's soft tokens, or the modality's hard token ids (its 128-id slice
// of the vocabulary, e.g. <end_of_image>), into the text model's width.
//   hard: embedding[id - offset] -> RmsNorm(hard_embedding_norm)
//   soft: x                      -> RmsNorm(soft_embedding_norm)
//   then embedding_projection [text_hidden, mm_hidden] -> RmsNorm without scale.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

class MultimodalEmbedder {
 public:
  // `prefix` is "model.embed_vision." or "model.embed_audio.".
  static absl::StatusOr<std::unique_ptr<MultimodalEmbedder>> Load(const Checkpoint& ckpt,
                                                                  const std::string& prefix,
                                                                  const EmbedderVocab& vocab,
                                                                  int text_hidden_size, ThreadPool& pool);

  // Its tensors under `prefix` with their shapes (the table Load reads), for
  // writing synthetic checkpoints.
  static std::vector<NamedShape> TensorShapes(const std::string& prefix, const EmbedderVocab& vocab,
                                              int text_hidden_size);

  bool OwnsId(int id) const { return id >= vocab_.vocab_offset && id < vocab_.vocab_offset + vocab_.vocab_size; }
  int text_hidden_size() const { return text_hidden_; }

  // ids [n] (each must satisfy OwnsId) -> out [n, text_hidden].
  absl::Status EmbedHard(absl::Span<const int> ids, float* out) const;
  // soft [n, mm_hidden] -> out [n, text_hidden].
  void EmbedSoft(const float* soft, int64_t n, float* out) const;

 private:
  void Project(std::vector<float>& normed, int64_t n, float* out) const;
  // Visits each tensor: its name, shape and field in `e`.
  static absl::Status ForEachTensor(const std::string& prefix, const EmbedderVocab& vocab, int text_hidden_size,
                                    MultimodalEmbedder& e,
                                    absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit);

  EmbedderVocab vocab_;
  int text_hidden_ = 0;
  ThreadPool* pool_ = nullptr;  // the owning model's
  WeightMatrix embedding_;   // [vocab_size, mm_hidden]
  WeightMatrix projection_;  // [text_hidden, mm_hidden]
  std::vector<float> hard_norm_, soft_norm_;  // [mm_hidden]
};

}  // namespace gemma3n
