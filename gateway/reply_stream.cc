#include "gateway/reply_stream.h"

#include <algorithm>

#include "common/metrics/registry.h"
#include "common/serving/text_finish.h"
#include "common/status/status_macros.h"
#include "gateway/public_finish.h"

namespace gemma3n {

namespace {

double Seconds(ReplyStream::Clock::time_point a, ReplyStream::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// The generation metrics, looked up once per process: updated per message.
struct GenerationMetrics {
  prometheus::Histogram& first_token;
  prometheus::Histogram& inter_token;
  prometheus::Counter& prompt_tokens;
  prometheus::Counter& generated_tokens;
};

const GenerationMetrics& Metrics() {
  metrics::Registry& m = metrics::Process();
  static const GenerationMetrics g{m.Histogram(metrics::Metric::kTimeToFirstToken),
                                   m.Histogram(metrics::Metric::kInterTokenLatency),
                                   m.Counter(metrics::Metric::kPromptTokens),
                                   m.Counter(metrics::Metric::kGeneratedTokens)};
  return g;
}

}  // namespace

ReplyStream::ReplyStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings, Clock::time_point start,
                         bool include_special_tokens)
    : decoder_(tokenizer, /*skip_control_tokens=*/!include_special_tokens),
      stops_(std::move(stop_strings)), start_(start), first_token_(start), last_token_(start) {}

absl::StatusOr<v1::GenerateResponse> ReplyStream::Add(const internal::v1::TextGenerateResponse& in) {
  v1::GenerateResponse out;
  cached_prompt_tokens_ = std::max(cached_prompt_tokens_, in.cached_prompt_tokens());
  std::string text;
  for (int tok : in.token_ids()) {
    ASSIGN_OR_RETURN(std::string piece, decoder_.Push(tok));
    text += piece;
    out.add_token_ids(tok);
  }
  if (in.token_ids_size() > 0) {
    const Clock::time_point now = Clock::now();
    // One inter-token gap per token after the first: the first token of a
    // message waited since the last message; the others of the same
    // message came with it (0 s), as a client reading the stream sees them.
    if (generated_ == 0) {
      first_token_ = now;
      Metrics().first_token.Observe(Seconds(start_, now));
    } else {
      Metrics().inter_token.Observe(Seconds(last_token_, now));
    }
    for (int i = 1; i < in.token_ids_size(); ++i) Metrics().inter_token.Observe(0);
    last_token_ = now;
    generated_ += in.token_ids_size();
    Metrics().generated_tokens.Increment(in.token_ids_size());
  }
  out.set_text(stops_.Push(text));
  if (stops_.stopped()) {
    finish_ = FinishReason::kStopString;
  } else if (in.finish() != internal::v1::TEXT_FINISH_NONE) {
    finish_ = FromTextFinish(in.finish());
  }
  return out;
}

absl::StatusOr<v1::GenerateResponse> ReplyStream::Close(v1::GenerateResponse last, int prompt_tokens) {
  if (finish_ != FinishReason::kStopString) {
    ASSIGN_OR_RETURN(std::string tail, decoder_.Flush());
    last.mutable_text()->append(stops_.Push(tail));
    last.mutable_text()->append(stops_.Flush());
  }
  last.set_finish_reason(ToPublicFinish(finish_));
  Metrics().prompt_tokens.Increment(prompt_tokens);
  v1::Usage* u = last.mutable_usage();
  u->set_prompt_tokens(prompt_tokens);
  u->set_cached_prompt_tokens(cached_prompt_tokens_);
  u->set_generated_tokens(generated_);
  u->set_time_to_first_token_seconds(generated_ > 0 ? Seconds(start_, first_token_) : 0.0);
  const double decode = Seconds(first_token_, last_token_);
  u->set_decode_tokens_per_second(generated_ > 1 && decode > 0 ? (generated_ - 1) / decode : 0.0);
  return last;
}

}  // namespace gemma3n
