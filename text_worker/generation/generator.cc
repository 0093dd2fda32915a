#include "text_worker/generation/generator.h"

#include <algorithm>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "text_worker/generation/decode_step.h"
#include "text_worker/model/soft_tokens.h"

namespace gemma3n {
namespace {

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

absl::StatusOr<GenerateResult> Generate(const TextModel& model, absl::Span<const int> prompt,
                                        const SoftTokenRows* soft, const GenerateOptions& options,
                                        const std::function<bool(int)>& on_token) {
  const TextConfig& c = model.text_config();
  RETURN_IF_ERROR(CheckPromptLength(static_cast<int64_t>(prompt.size()), c.max_position_embeddings));
  const int64_t total = static_cast<int64_t>(prompt.size()) + std::max(0, options.max_new_tokens);
  auto cache = model.NewCache(std::min<int64_t>(total, c.max_position_embeddings), options.plan);

  GenerateResult result;
  result.prompt_tokens = static_cast<int>(prompt.size());
  if (options.max_new_tokens <= 0) return result;
  const auto start = std::chrono::steady_clock::now();

  // Prefill in chunks; only the last chunk's last logits are needed.
  const int64_t chunk = std::max(1, options.prefill_chunk);
  ForwardResult step;
  for (int64_t begin = 0; begin < static_cast<int64_t>(prompt.size()); begin += chunk) {
    const int64_t end = std::min<int64_t>(prompt.size(), begin + chunk);
    SoftTokenRows part;
    if (soft) part = SliceSoftRows(*soft, begin, end, c.hidden_size);
    const bool last = end == static_cast<int64_t>(prompt.size());
    ForwardOptions fo;
    fo.logits = last ? LogitsFor::kLast : LogitsFor::kNone;
    fo.plan = options.plan;
    ASSIGN_OR_RETURN(step, model.Forward(*cache, prompt.subspan(begin, end - begin), soft ? &part : nullptr, fo));
  }

  Sampler sampler(options.sampling);
  std::vector<int> history(prompt.begin(), prompt.end());
  auto decode_start = start;
  for (int i = 0; i < options.max_new_tokens; ++i) {
    const DecodeStep next = NextToken(sampler, step.logits, history, options.stop_ids, i, options.max_new_tokens, *cache);
    if (i == 0) {
      result.prefill_seconds = SecondsSince(start);
      decode_start = std::chrono::steady_clock::now();
    }
    if (next.end == FinishReason::kStopToken) {
      result.finish = FinishReason::kStopToken;
      break;
    }
    result.tokens.push_back(next.id);
    if (on_token && !on_token(next.id)) {
      result.finish = FinishReason::kCancelled;
      break;
    }
    if (next.end != FinishReason::kNone) {  // the token limit, or the context is full
      result.finish = next.end;
      break;
    }
    ForwardOptions fo;
    fo.plan = options.plan;
    ASSIGN_OR_RETURN(step, model.Forward(*cache, {next.id}, nullptr, fo));
  }
  result.decode_seconds = SecondsSince(decode_start);
  return result;
}

}  // namespace gemma3n
