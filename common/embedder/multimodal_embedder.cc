#include "common/embedder/multimodal_embedder.h"

#include "absl/strings/str_cat.h"
#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/status/status_macros.h"

namespace gemma3n {

absl::Status MultimodalEmbedder::ForEachTensor(const std::string& prefix, const EmbedderVocab& vocab,
                                               int text_hidden_size, MultimodalEmbedder& e,
                                               absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit) {
  const int64_t mm = vocab.hidden_size;
  RETURN_IF_ERROR(visit({prefix + "embedding.weight", {vocab.vocab_size, mm}, &e.embedding_}));
  RETURN_IF_ERROR(visit({prefix + "hard_embedding_norm.weight", {mm}, &e.hard_norm_}));
  RETURN_IF_ERROR(visit({prefix + "soft_embedding_norm.weight", {mm}, &e.soft_norm_}));
  return visit({prefix + "embedding_projection.weight", {text_hidden_size, mm}, &e.projection_});
}

absl::StatusOr<std::unique_ptr<MultimodalEmbedder>> MultimodalEmbedder::Load(const Checkpoint& ckpt,
                                                                             const std::string& prefix,
                                                                             const EmbedderVocab& vocab,
                                                                             int text_hidden_size, ThreadPool& pool) {
  auto e = std::unique_ptr<MultimodalEmbedder>(new MultimodalEmbedder());
  e->pool_ = &pool;
  e->vocab_ = vocab;
  e->text_hidden_ = text_hidden_size;
  RETURN_IF_ERROR(ForEachTensor(prefix, vocab, text_hidden_size, *e,
                                [&](const NamedWeightSlot& t) { return LoadIntoSlot(ckpt, t); }));
  return e;
}

std::vector<NamedShape> MultimodalEmbedder::TensorShapes(const std::string& prefix, const EmbedderVocab& vocab,
                                                         int text_hidden_size) {
  std::vector<NamedShape> out;
  MultimodalEmbedder scratch;
  (void)ForEachTensor(prefix, vocab, text_hidden_size, scratch, [&](const NamedWeightSlot& t) {
    out.push_back({t.name, t.shape});
    return absl::OkStatus();
  });
  return out;
}

void MultimodalEmbedder::Project(std::vector<float>& normed, int64_t n, float* out) const {
  MatMul(*pool_, normed.data(), n, projection_, out);
  RmsNorm(out, n, text_hidden_, nullptr, vocab_.rms_norm_eps, out);
}

absl::Status MultimodalEmbedder::EmbedHard(absl::Span<const int> ids, float* out) const {
  const int64_t mm = vocab_.hidden_size;
  std::vector<float> rows(ids.size() * mm);
  for (size_t i = 0; i < ids.size(); ++i) {
    if (!OwnsId(ids[i])) {
      return absl::InvalidArgumentError(absl::StrCat("token id ", ids[i], " is outside the embedder's range [",
                                                     vocab_.vocab_offset, ", ",
                                                     vocab_.vocab_offset + vocab_.vocab_size, ")"));
    }
    embedding_.RowToF32(ids[i] - vocab_.vocab_offset, rows.data() + i * mm);
  }
  RmsNorm(rows.data(), ids.size(), mm, hard_norm_.data(), vocab_.rms_norm_eps, rows.data());
  Project(rows, ids.size(), out);
  return absl::OkStatus();
}

void MultimodalEmbedder::EmbedSoft(const float* soft, int64_t n, float* out) const {
  const int64_t mm = vocab_.hidden_size;
  std::vector<float> rows(n * mm);
  RmsNorm(soft, n, mm, soft_norm_.data(), vocab_.rms_norm_eps, rows.data());
  Project(rows, n, out);
}

}  // namespace gemma3n
