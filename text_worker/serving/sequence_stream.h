// The channel between the batch scheduler (producer) and the RPC handler of
// one sequence (consumer): generated tokens, then one final outcome. The
// consumer can cancel at any time; the scheduler drops the sequence (and its
// KV cache) at its next step.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <vector>

#include "absl/status/status.h"
#include "common/serving/finish_reason.h"

namespace gemma3n {

struct SequenceUpdate {
  std::vector<int> tokens;                 // new since the last update
  bool done = false;
  absl::Status status;                     // when done: ok or why it failed
  FinishReason finish = FinishReason::kNone;  // when done and ok: kStopToken, kMaxTokens or kContextFull
  int prompt_tokens = 0;
  double prefill_seconds = 0.0;            // submit -> first token (when known)
  int cached_prompt_tokens = 0;            // of prompt_tokens, from the prefix cache
};

class SequenceStream {
 public:
  // Producer side.
  void PushToken(int id);
  void SetPrefillSeconds(double s);
  void SetCachedPromptTokens(int n);
  void Finish(absl::Status status, FinishReason finish);
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

  // Consumer side: waits up to `timeout` for news; returns what arrived
  // (possibly nothing).
  SequenceUpdate Wait(std::chrono::milliseconds timeout);
  void Cancel();

  int prompt_tokens = 0;  // set before the stream is shared

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<int> pending_;
  bool done_ = false;
  absl::Status status_;
  FinishReason finish_ = FinishReason::kNone;
  double prefill_seconds_ = 0.0;
  int cached_prompt_tokens_ = 0;
  std::atomic<bool> cancelled_{false};
};

}  // namespace gemma3n
