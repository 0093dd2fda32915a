// For tests of stop strings in streamed replies: a stop string that starts in
// one token's text and ends in the next one's, so no single token holds it.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "common/tokenizer/tokenizer.h"

namespace gemma3n::testing {

struct StopAcrossTokens {
  std::string stop;            // the last 2 characters of token k and the first 2 of token k + 1
  std::string text_before;     // the reply's text before the stop string
  int tokens_until_complete;   // k + 2: the tokens streamed when the stop string completes

  // The first such boundary in the text of `ids` (tokens of 2 or more
  // characters on both sides), if any.
  static std::optional<StopAcrossTokens> Find(const Tokenizer& tokenizer, const std::vector<int>& ids);
};

}  // namespace gemma3n::testing
