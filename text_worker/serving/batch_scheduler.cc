#include "text_worker/serving/batch_scheduler.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/generation/decode_step.h"
#include "text_worker/model/soft_tokens.h"

namespace gemma3n {

struct BatchScheduler::Sequence {
  SequenceRequest req;
  std::shared_ptr<SequenceStream> stream;
  std::unique_ptr<KvCache> cache;
  std::optional<Sampler> sampler;
  std::vector<int> history;      // prompt + generated, for the repetition penalty
  int64_t prefilled = 0;         // prompt tokens already in the cache
  int generated = 0;
  int next_input = -1;           // the token the next decode step feeds
  std::chrono::steady_clock::time_point submitted;
};

BatchScheduler::BatchScheduler(const ModelExecutor& model, SchedulerOptions options)
    : model_(model),
      options_(options),
      context_limit_(options.context_limit > 0
                         ? std::min<int64_t>(options.context_limit, model.text_config().max_position_embeddings)
                         : model.text_config().max_position_embeddings),
      prefix_cache_(options.prefix_cache_bytes),
      batch_size_(metrics::Process().Histogram(metrics::Metric::kTextBatchSize)),
      step_seconds_(metrics::Process().Histogram(metrics::Metric::kTextStepDuration)),
      prompt_tokens_(metrics::Process().Counter(metrics::Metric::kTextPromptTokens)),
      generated_tokens_(metrics::Process().Counter(metrics::Metric::kTextGeneratedTokens)),
      prefix_reused_tokens_(metrics::Process().Counter(metrics::Metric::kTextPrefixCacheReusedTokens)) {
  metrics::Registry& m = metrics::Process();
  m.Gauge(metrics::Metric::kKvCacheSequenceSlots).Set(options_.max_sequences);
  sampled_.push_back(m.Sample(metrics::Metric::kTextActiveSequences, [this] { return stats().active; }));
  sampled_.push_back(m.Sample(metrics::Metric::kTextQueuedSequences, [this] { return stats().queued; }));
  sampled_.push_back(m.Sample(metrics::Metric::kKvCacheUsedBytes,
                              [this] { return static_cast<double>(stats().kv_cache_bytes); }));
  sampled_.push_back(m.Sample(metrics::Metric::kTextPrefixCacheBytes,
                              [this] { return static_cast<double>(stats().prefix_cache.bytes); }));
  loop_ = std::thread([this] { Loop(); });
}

BatchScheduler::~BatchScheduler() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  loop_.join();
  const absl::Status gone = absl::UnavailableError("the text worker is shutting down");
  for (auto& s : active_) s->stream->Finish(gone, FinishReason::kNone);
  for (auto& s : queued_) s->stream->Finish(gone, FinishReason::kNone);
}

absl::Status BatchScheduler::Validate(const SequenceRequest& r) const {
  const TextConfig& c = model_.text_config();
  // Sampling and max_new_tokens come checked (ValidateGeneration).
  RETURN_IF_ERROR(CheckPromptLength(static_cast<int64_t>(r.prompt.size()), context_limit_));
  RETURN_IF_ERROR(CheckTokenIds(r.prompt, c.vocab_size));
  if (r.soft.rows.size() != r.soft.positions.size() * c.hidden_size) {
    return absl::InvalidArgumentError(absl::StrCat("soft tokens must be rows of width ", c.hidden_size));
  }
  for (int64_t p : r.soft.positions) {
    if (p < 0 || p >= static_cast<int64_t>(r.prompt.size())) {
      return absl::InvalidArgumentError(absl::StrCat("soft token position ", p, " is outside the prompt"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<SequenceStream>> BatchScheduler::Submit(SequenceRequest request) {
  RETURN_IF_ERROR(Validate(request));
  auto s = std::make_unique<Sequence>();
  s->stream = std::make_shared<SequenceStream>();
  s->stream->prompt_tokens = static_cast<int>(request.prompt.size());
  s->req = std::move(request);
  s->submitted = std::chrono::steady_clock::now();
  std::shared_ptr<SequenceStream> stream = s->stream;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return absl::UnavailableError("the text worker is shutting down");
    if (static_cast<int>(queued_.size()) >= options_.max_queued) {
      return absl::ResourceExhaustedError(absl::StrCat("the text worker is full: ", options_.max_sequences,
                                                       " sequences running and ", queued_.size(),
                                                       " waiting; retry later"));
    }
    queued_.push_back(std::move(s));
  }
  cv_.notify_all();
  return stream;
}

SchedulerStats BatchScheduler::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void BatchScheduler::Loop() {
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queued_.empty() || !active_.empty(); });
      if (stopping_) return;
    }
    AdmitAndReap();
    if (!active_.empty()) Step();
  }
}

// Drops cancelled sequences (freeing their caches now) and admits queued
// ones into free slots.
void BatchScheduler::AdmitAndReap() {
  auto cancelled = [](const std::unique_ptr<Sequence>& s) {
    if (!s->stream->cancelled()) return false;
    spdlog::debug("sequence {} cancelled after {} tokens; KV cache freed", s->req.id, s->generated);
    s->stream->Finish(absl::CancelledError("cancelled by the client"), FinishReason::kNone);
    return true;
  };
  active_.erase(std::remove_if(active_.begin(), active_.end(), cancelled), active_.end());
  std::vector<std::unique_ptr<Sequence>> admitted;
  {
    std::lock_guard<std::mutex> lock(mu_);
    queued_.erase(std::remove_if(queued_.begin(), queued_.end(), cancelled), queued_.end());
    while (!queued_.empty() && static_cast<int>(active_.size() + admitted.size()) < options_.max_sequences) {
      admitted.push_back(std::move(queued_.front()));
      queued_.pop_front();
    }
  }
  // Caches are made (a prefix-cache hit copies rows) outside the lock, so
  // Submit and stats() never wait for them.
  for (auto& s : admitted) {
    OpenCache(*s);
    s->sampler.emplace(s->req.sampling);
    s->history = s->req.prompt;
    active_.push_back(std::move(s));
  }
  std::lock_guard<std::mutex> lock(mu_);
  PublishStatsLocked();
}

void BatchScheduler::OpenCache(Sequence& s) {
  const int64_t tokens = std::min<int64_t>(s.req.prompt.size() + s.req.max_new_tokens, context_limit_);
  PrefixHit hit = prefix_cache_.Lookup(s.req.plan, s.req.prompt, s.req.soft, model_.text_config().hidden_size, tokens);
  if (hit.cache == nullptr) {
    // With the prefix cache the prompt is kept whole (KeepPrompt).
    s.cache = model_.NewCache(tokens, s.req.plan, /*defer_rings=*/prefix_cache_.enabled());
  } else {
    spdlog::debug("sequence {}: {} of {} prompt tokens from the prefix cache", s.req.id, hit.reused,
                  s.req.prompt.size());
    s.cache = std::move(hit.cache);
    s.prefilled = hit.reused;
    s.stream->SetCachedPromptTokens(static_cast<int>(hit.reused));
    prefix_reused_tokens_.Increment(static_cast<double>(hit.reused));
  }
  // A prompt whose every row would not fit the cache's budget is not kept
  // whole: its sliding layers are rings from the start, so a long prompt
  // holds no more than without the prefix cache.
  const int64_t whole = static_cast<int64_t>(s.req.prompt.size()) * s.cache->bytes_per_token();
  if (!prefix_cache_.Fits(whole)) s.cache->MakeRings();
}

void BatchScheduler::KeepPrompt(Sequence& s) {
  if (!prefix_cache_.enabled() || !s.cache->HoldsAllRows()) return;
  const int64_t n = static_cast<int64_t>(s.req.prompt.size());
  prefix_cache_.Insert(s.req.plan, s.req.prompt, s.req.soft, model_.text_config().hidden_size,
                       s.cache->CopyPrefix(n, n, /*defer_rings=*/true));
  s.cache->MakeRings();
}

void BatchScheduler::KeepCache(Sequence& s) {
  if (!prefix_cache_.enabled()) return;
  // history: prompt + emitted tokens; the cache holds those it ran (all but
  // the last emitted one when the token limit or the context ended it).
  const int64_t length = s.cache->length();
  if (length > static_cast<int64_t>(s.history.size())) return;
  std::vector<int> tokens(s.history.begin(), s.history.begin() + length);
  prefix_cache_.Insert(s.req.plan, std::move(tokens), s.req.soft, model_.text_config().hidden_size,
                       std::move(s.cache));
}

void BatchScheduler::PublishStatsLocked() {
  stats_.active = static_cast<int>(active_.size());
  stats_.queued = static_cast<int>(queued_.size());
  int64_t bytes = 0;
  for (const auto& s : active_) bytes += s->cache->bytes();
  stats_.kv_cache_bytes = bytes;
  stats_.prefix_cache = prefix_cache_.stats();
}

void BatchScheduler::Step() {
  // One plan per forward; plans take turns.
  const ElasticPlan* plan = active_[round_robin_++ % active_.size()]->req.plan;
  std::vector<Sequence*> batch;
  std::vector<SequenceChunk> chunks;
  std::vector<bool> ends_prompt;  // per chunk: the prompt's last prefill chunk
  std::vector<SoftTokenRows> soft_parts;
  soft_parts.reserve(active_.size());
  int64_t budget = options_.prefill_tokens_per_step;
  for (auto& owned : active_) {
    Sequence& s = *owned;
    if (s.req.plan != plan) continue;
    SequenceChunk chunk;
    chunk.cache = s.cache.get();
    const int64_t prompt = s.req.prompt.size();
    bool last_prefill = false;
    if (s.prefilled < prompt) {
      if (budget <= 0) continue;  // next step
      const int64_t n = std::min(prompt - s.prefilled, budget);
      budget -= n;
      chunk.ids = absl::MakeConstSpan(s.req.prompt).subspan(s.prefilled, n);
      if (!s.req.soft.positions.empty()) {
        soft_parts.push_back(SliceSoftRows(s.req.soft, s.prefilled, s.prefilled + n, model_.text_config().hidden_size));
        chunk.soft = &soft_parts.back();
      }
      last_prefill = s.prefilled + n == prompt;
      chunk.logits = last_prefill ? LogitsFor::kLast : LogitsFor::kNone;
      s.prefilled += n;
      prompt_tokens_.Increment(static_cast<double>(n));
    } else {
      chunk.ids = absl::MakeConstSpan(&s.next_input, 1);
    }
    batch.push_back(&s);
    ends_prompt.push_back(last_prefill);
    chunks.push_back(chunk);
  }
  if (batch.empty()) return;

  const auto step_start = std::chrono::steady_clock::now();
  absl::StatusOr<std::vector<ForwardResult>> results = model_.ForwardBatch(chunks, plan);
  step_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - step_start).count());
  batch_size_.Observe(static_cast<double>(batch.size()));
  std::vector<Sequence*> finished;
  if (!results.ok()) {
    // Requests were validated on submit, so this is the system (e.g. the
    // PLE service is down): every sequence of the batch fails with it.
    spdlog::warn("forward of {} sequences failed: {}", batch.size(), results.status().ToString());
    for (Sequence* s : batch) {
      s->stream->Finish(results.status(), FinishReason::kNone);
      finished.push_back(s);
    }
  } else {
    for (size_t i = 0; i < batch.size(); ++i) {
      if (ends_prompt[i]) KeepPrompt(*batch[i]);
      if (chunks[i].logits == LogitsFor::kNone) continue;
      if (!Advance(*batch[i], (*results)[i].logits)) {
        KeepCache(*batch[i]);
        finished.push_back(batch[i]);
      }
    }
  }
  active_.erase(std::remove_if(active_.begin(), active_.end(),
                               [&](const std::unique_ptr<Sequence>& s) {
                                 return std::find(finished.begin(), finished.end(), s.get()) != finished.end();
                               }),
                active_.end());
  std::lock_guard<std::mutex> lock(mu_);
  stats_.steps += 1;
  stats_.rows += static_cast<int64_t>(batch.size());
  stats_.max_batch = std::max(stats_.max_batch, static_cast<int>(batch.size()));
  PublishStatsLocked();
}

bool BatchScheduler::Advance(Sequence& s, const std::vector<float>& logits) {
  const DecodeStep next =
      NextToken(*s.sampler, logits, s.history, s.req.stop_ids, s.generated, s.req.max_new_tokens, *s.cache);
  if (s.generated == 0) {
    s.stream->SetPrefillSeconds(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - s.submitted).count());
  }
  if (next.end == FinishReason::kStopToken) {
    s.stream->Finish(absl::OkStatus(), FinishReason::kStopToken);
    return false;
  }
  s.generated += 1;
  generated_tokens_.Increment();
  s.next_input = next.id;
  s.stream->PushToken(next.id);
  if (next.end == FinishReason::kNone) return true;
  s.stream->Finish(absl::OkStatus(), next.end);  // kMaxTokens or kContextFull
  return false;
}

}  // namespace gemma3n
