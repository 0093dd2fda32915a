// Continuous batching: every step runs one forward over all active sequences
// (of one MatFormer plan): a token each for those decoding, a bounded chunk
// for those still prefilling. Each weight matrix is then read once per step
// for all of them, and a long generation never blocks a new request: it
// joins the next step.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/metrics/registry.h"
#include "text_worker/generation/sampler.h"
#include "text_worker/serving/model_executor.h"
#include "text_worker/serving/prefix_cache.h"
#include "text_worker/serving/sequence_stream.h"

namespace gemma3n {

struct SequenceRequest {
  std::string id;                 // for logs
  std::vector<int> prompt;
  SoftTokenRows soft;             // positions index into prompt
  int max_new_tokens = 64;
  SamplingParams sampling;
  std::vector<int> stop_ids;      // the stop token itself is not emitted
  const ElasticPlan* plan = nullptr;  // null = the full model; must outlive the sequence
};

struct SchedulerOptions {
  int max_sequences = 8;              // decoding at once (each holds a KV cache)
  int max_queued = 64;                // waiting for a slot; beyond: RESOURCE_EXHAUSTED
  int prefill_tokens_per_step = 256;  // prompt tokens per step, shared by prefilling sequences
  int64_t context_limit = 0;          // tokens per sequence; 0 = the model's
  // Finished sequences' KV caches kept for reuse by prompts that start the
  // same way (prefix_cache.h); 0 = off.
  int64_t prefix_cache_bytes = 0;
};

struct SchedulerStats {
  int active = 0;
  int queued = 0;
  int64_t kv_cache_bytes = 0;
  int64_t steps = 0;
  int64_t rows = 0;          // sequences summed over steps (rows / steps = mean batch)
  int max_batch = 0;         // most sequences seen in one step
  PrefixCacheStats prefix_cache;
};

class BatchScheduler {
 public:
  // `model` must outlive the scheduler.
  BatchScheduler(const ModelExecutor& model, SchedulerOptions options);
  ~BatchScheduler();  // fails what is left with UNAVAILABLE
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Checks the request (ids, soft rows, lengths, sampling) and queues it.
  // INVALID_ARGUMENT for bad requests, RESOURCE_EXHAUSTED when the queue is full.
  absl::StatusOr<std::shared_ptr<SequenceStream>> Submit(SequenceRequest request);
  SchedulerStats stats() const;
  int64_t context_limit() const { return context_limit_; }
  int max_sequences() const { return options_.max_sequences; }

 private:
  struct Sequence;
  absl::Status Validate(const SequenceRequest& r) const;
  void Loop();
  void AdmitAndReap();
  void Step();
  void PublishStatsLocked();  // active/queued/KV figures for stats()
  // Samples the next token of `s` from its logits; false when it finished.
  bool Advance(Sequence& s, const std::vector<float>& logits);
  // A cache for `s`: the longest reusable prefix of its prompt from the
  // prefix cache (marked prefilled), else an empty one.
  void OpenCache(Sequence& s);
  // Once its prompt is prefilled: a copy of it, every row, to the prefix
  // cache; then the cache's sliding layers become rings.
  void KeepPrompt(Sequence& s);
  // Hands a sequence that finished well to the prefix cache.
  void KeepCache(Sequence& s);

  const ModelExecutor& model_;
  const SchedulerOptions options_;
  const int64_t context_limit_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::unique_ptr<Sequence>> queued_;
  bool stopping_ = false;
  SchedulerStats stats_;

  std::vector<std::unique_ptr<Sequence>> active_;  // loop thread only
  PrefixCache prefix_cache_;                        // loop thread only
  size_t round_robin_ = 0;
  std::thread loop_;

  // Updated by the loop thread at each step (looked up once).
  prometheus::Histogram& batch_size_;
  prometheus::Histogram& step_seconds_;
  prometheus::Counter& prompt_tokens_;
  prometheus::Counter& generated_tokens_;
  prometheus::Counter& prefix_reused_tokens_;
  std::vector<metrics::SampledGauge> sampled_;  // last: ends before what it reads
};

}  // namespace gemma3n
