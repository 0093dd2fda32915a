#include "text_worker/generation/decode_step.h"

#include <algorithm>

namespace gemma3n {

DecodeStep NextToken(Sampler& sampler, const std::vector<float>& logits, std::vector<int>& history,
                     absl::Span<const int> stop_ids, int generated, int max_new_tokens, const KvCache& cache) {
  DecodeStep step;
  step.id = sampler.Sample(logits, history);
  if (std::find(stop_ids.begin(), stop_ids.end(), step.id) != stop_ids.end()) {
    step.end = FinishReason::kStopToken;
    return step;
  }
  history.push_back(step.id);
  if (generated + 1 >= max_new_tokens) {
    step.end = FinishReason::kMaxTokens;
  } else if (cache.length() + 1 > cache.max_tokens()) {
    step.end = FinishReason::kContextFull;
  }
  return step;
}

}  // namespace gemma3n
