// The per-token decision of every decoding loop (Generate() and the batch
// scheduler): sample the next token, then decide whether the sequence goes
// on. One definition, so a stop id, the token limit and a full cache end a
// sequence the same way wherever it runs.
#pragma once

#include <vector>

#include "absl/types/span.h"
#include "common/serving/finish_reason.h"
#include "text_worker/generation/sampler.h"
#include "text_worker/model/kv_cache.h"

namespace gemma3n {

struct DecodeStep {
  int id = 0;
  // kNone: the sequence goes on. kStopToken: `id` is a stop id, neither
  // emitted nor added to the history. kMaxTokens: `id` is the last token the
  // request allows. kContextFull: `id` fills the cache, no room to run it.
  FinishReason end = FinishReason::kNone;
};

// Samples from logits [vocab] given the history (prompt + generated so far);
// unless the token is a stop id it is appended to history. generated: tokens
// emitted before this one. The cache holds prompt + max_new_tokens tokens, or
// fewer when the context is shorter; the token limit is checked first, so a
// cache that is full is the context filling up.
DecodeStep NextToken(Sampler& sampler, const std::vector<float>& logits, std::vector<int>& history,
                     absl::Span<const int> stop_ids, int generated, int max_new_tokens, const KvCache& cache);

}  // namespace gemma3n
