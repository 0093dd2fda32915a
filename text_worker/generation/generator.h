// The generation loop of one sequence: prefill the prompt through the KV cache,
// then decode token by token until a stop id or the token limit.
#pragma once

#include <functional>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/serving/finish_reason.h"
#include "text_worker/generation/sampler.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

struct GenerateOptions {
  int max_new_tokens = 64;
  SamplingParams sampling;
  std::vector<int> stop_ids;  // e.g. <eos>, <end_of_turn>; the stop token is not returned
  // Prompt tokens per prefill forward (bounds scratch memory on long prompts).
  int prefill_chunk = 512;
  // A MatFormer sub-model to run (null: the full model). Fixed for the
  // sequence's life: its KV cache depends on it.
  const ElasticPlan* plan = nullptr;
};

struct GenerateResult {
  std::vector<int> tokens;
  FinishReason finish = FinishReason::kMaxTokens;  // kStopToken, kMaxTokens, kContextFull or kCancelled
  int prompt_tokens = 0;
  double prefill_seconds = 0.0;  // until the first token is chosen
  double decode_seconds = 0.0;   // the rest
};

// on_token(id) is called for each generated token as it is chosen; returning
// false cancels generation (FinishReason::kCancelled).
absl::StatusOr<GenerateResult> Generate(const TextModel& model, absl::Span<const int> prompt,
                                        const SoftTokenRows* soft, const GenerateOptions& options,
                                        const std::function<bool(int)>& on_token = nullptr);

}  // namespace gemma3n
