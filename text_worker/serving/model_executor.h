// What the batch scheduler needs from a model: its dimensions, a KV cache per
// sequence, and one forward over chunks of several sequences. TextModel
// serves it in production (text_model_executor.h); the scheduler's tests use
// a fake that returns scripted logits, so queueing, cancellation and the ends
// of sequences are tested without weights.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/config/model_config.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/kv_cache.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

class ModelExecutor {
 public:
  virtual ~ModelExecutor() = default;

  // vocab_size (logits per row), hidden_size (soft-token row width) and
  // max_position_embeddings (the longest context) are what the scheduler reads.
  virtual const TextConfig& text_config() const = 0;
  // A cache for up to max_tokens positions of a sequence run with `plan`
  // (null: the full model); defer_rings: see KvCache.
  virtual std::unique_ptr<KvCache> NewCache(int64_t max_tokens, const ElasticPlan* plan, bool defer_rings) const = 0;
  // One forward over every chunk (each of another sequence, all of `plan`):
  // appends the chunk's ids to its cache and returns, in chunk order, the
  // logits each chunk asked for ([vocab] for LogitsFor::kLast). On error no
  // cache changes.
  virtual absl::StatusOr<std::vector<ForwardResult>> ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                                  const ElasticPlan* plan) const = 0;
};

}  // namespace gemma3n
