// The production ModelExecutor: the Gemma 3n text decoder itself.
#pragma once

#include "text_worker/serving/model_executor.h"

namespace gemma3n {

class TextModelExecutor final : public ModelExecutor {
 public:
  explicit TextModelExecutor(const TextModel& model) : model_(model) {}

  const TextConfig& text_config() const override { return model_.text_config(); }
  std::unique_ptr<KvCache> NewCache(int64_t max_tokens, const ElasticPlan* plan, bool defer_rings) const override {
    return model_.NewCache(max_tokens, plan, defer_rings);
  }
  absl::StatusOr<std::vector<ForwardResult>> ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                          const ElasticPlan* plan) const override {
    return model_.ForwardBatch(chunks, plan);
  }

 private:
  const TextModel& model_;
};

}  // namespace gemma3n
