// A ModelExecutor without weights, for the batch scheduler's tests. Its
// logits make greedy decoding continue every sequence with
// (last id fed + 1) % vocab, so a test knows each token a sequence produces.
// Forwards can be held (each waits for a permit the test hands out) and made
// to fail, and every forward's batch is recorded.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <vector>

#include "text_worker/serving/model_executor.h"

namespace gemma3n::testing {

class FakeModelExecutor final : public ModelExecutor {
 public:
  // vocab: logits per row; context: max_position_embeddings.
  explicit FakeModelExecutor(int vocab = 256, int hidden = 4, int context = 1 << 20);

  const TextConfig& text_config() const override { return config_; }
  std::unique_ptr<KvCache> NewCache(int64_t max_tokens, const ElasticPlan* plan, bool defer_rings) const override;
  absl::StatusOr<std::vector<ForwardResult>> ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                          const ElasticPlan* plan) const override;

  // Hold(): forwards wait for permits; Allow(n): n more forwards may run;
  // Release(): every forward runs from now on.
  void Hold();
  void Allow(int forwards);
  void Release();
  // Forward number `n` (0-based, in the order they start) fails with
  // `status`, changing no cache.
  void FailForward(int n, absl::Status status);

  // Wait up to 5 s until `n` forwards have entered / completed; false on timeout.
  bool WaitStarted(int n) const;
  bool WaitCompleted(int n) const;

  // The ids each chunk fed, per forward that completed.
  std::vector<std::vector<std::vector<int>>> batches() const;

 private:
  TextConfig config_;
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int64_t permits_ = std::numeric_limits<int64_t>::max();
  mutable int started_ = 0;
  mutable int completed_ = 0;
  int fail_at_ = -1;
  absl::Status failure_;
  mutable std::vector<std::vector<std::vector<int>>> batches_;
};

}  // namespace gemma3n::testing
