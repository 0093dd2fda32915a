#include "tests/serving/fake_model_executor.h"

#include "absl/strings/str_cat.h"

namespace gemma3n::testing {

namespace {
constexpr std::chrono::seconds kPatience(5);
}  // namespace

FakeModelExecutor::FakeModelExecutor(int vocab, int hidden, int context) {
  config_.vocab_size = vocab;
  config_.hidden_size = hidden;
  config_.max_position_embeddings = context;
}

std::unique_ptr<KvCache> FakeModelExecutor::NewCache(int64_t max_tokens, const ElasticPlan*, bool) const {
  // No layers: the cache only counts positions.
  return std::make_unique<KvCache>(config_, std::vector<LayerSpec>{}, max_tokens);
}

absl::StatusOr<std::vector<ForwardResult>> FakeModelExecutor::ForwardBatch(absl::Span<const SequenceChunk> chunks,
                                                                           const ElasticPlan*) const {
  std::unique_lock<std::mutex> lock(mu_);
  const int index = started_++;
  cv_.notify_all();
  cv_.wait(lock, [&] { return permits_ > 0; });
  if (permits_ != std::numeric_limits<int64_t>::max()) --permits_;
  const auto complete = [&] {
    ++completed_;
    cv_.notify_all();
  };
  if (index == fail_at_) {
    complete();
    return failure_;
  }
  for (const SequenceChunk& c : chunks) {
    if (c.ids.empty() || c.cache->length() + static_cast<int64_t>(c.ids.size()) > c.cache->max_tokens()) {
      complete();
      return absl::InternalError(absl::StrCat("a chunk of ", c.ids.size(), " ids at position ", c.cache->length(),
                                              " does not fit a cache of ", c.cache->max_tokens()));
    }
  }
  std::vector<ForwardResult> results(chunks.size());
  std::vector<std::vector<int>> fed;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const SequenceChunk& c = chunks[i];
    c.cache->set_length(c.cache->length() + static_cast<int64_t>(c.ids.size()));
    fed.emplace_back(c.ids.begin(), c.ids.end());
    if (c.logits == LogitsFor::kNone) continue;
    results[i].logits.assign(config_.vocab_size, 0.0f);  // [vocab]
    results[i].logits[(c.ids.back() + 1) % config_.vocab_size] = 1.0f;
  }
  batches_.push_back(std::move(fed));
  complete();
  return results;
}

void FakeModelExecutor::Hold() {
  std::lock_guard<std::mutex> lock(mu_);
  permits_ = 0;
}

void FakeModelExecutor::Allow(int forwards) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    permits_ += forwards;
  }
  cv_.notify_all();
}

void FakeModelExecutor::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    permits_ = std::numeric_limits<int64_t>::max();
  }
  cv_.notify_all();
}

void FakeModelExecutor::FailForward(int n, absl::Status status) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_at_ = n;
  failure_ = std::move(status);
}

bool FakeModelExecutor::WaitStarted(int n) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] { return started_ >= n; });
}

bool FakeModelExecutor::WaitCompleted(int n) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, kPatience, [&] { return completed_ >= n; });
}

std::vector<std::vector<std::vector<int>>> FakeModelExecutor::batches() const {
  std::lock_guard<std::mutex> lock(mu_);
  return batches_;
}

}  // namespace gemma3n::testing
