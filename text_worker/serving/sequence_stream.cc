#include "text_worker/serving/sequence_stream.h"

#include <utility>

namespace gemma3n {

void SequenceStream::PushToken(int id) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    pending_.push_back(id);
  }
  cv_.notify_all();
}

void SequenceStream::SetPrefillSeconds(double s) {
  std::lock_guard<std::mutex> lock(mu_);
  prefill_seconds_ = s;
}

void SequenceStream::SetCachedPromptTokens(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  cached_prompt_tokens_ = n;
}

void SequenceStream::Finish(absl::Status status, FinishReason finish) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (done_) return;
    done_ = true;
    status_ = std::move(status);
    finish_ = finish;
  }
  cv_.notify_all();
}

SequenceUpdate SequenceStream::Wait(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return done_ || !pending_.empty(); });
  SequenceUpdate u;
  u.tokens.swap(pending_);
  u.done = done_;
  u.status = status_;
  u.finish = finish_;
  u.prompt_tokens = prompt_tokens;
  u.prefill_seconds = prefill_seconds_;
  u.cached_prompt_tokens = cached_prompt_tokens_;
  return u;
}

void SequenceStream::Cancel() {
  cancelled_.store(true, std::memory_order_relaxed);
  cv_.notify_all();
}

}  // namespace gemma3n
