#include "tests/gateway/stop_across_tokens.h"

namespace gemma3n::testing {

std::optional<StopAcrossTokens> StopAcrossTokens::Find(const Tokenizer& tokenizer, const std::vector<int>& ids) {
  const absl::StatusOr<std::string> text = tokenizer.Decode(ids);
  if (!text.ok()) return std::nullopt;
  // ends[i]: the length of the text of ids[0..i].
  std::vector<size_t> ends;
  for (size_t i = 0; i < ids.size(); ++i) {
    absl::StatusOr<std::string> prefix = tokenizer.Decode(absl::MakeConstSpan(ids).first(i + 1));
    if (!prefix.ok() || text->compare(0, prefix->size(), *prefix) != 0) return std::nullopt;
    ends.push_back(prefix->size());
  }
  for (size_t k = 0; k + 1 < ids.size(); ++k) {
    const size_t begin = k == 0 ? 0 : ends[k - 1];
    if (ends[k] - begin < 2 || ends[k + 1] - ends[k] < 2) continue;
    const std::string stop = text->substr(ends[k] - 2, 4);
    if (text->find(stop) != ends[k] - 2) continue;  // it must not occur earlier
    return StopAcrossTokens{stop, text->substr(0, ends[k] - 2), static_cast<int>(k + 2)};
  }
  return std::nullopt;
}

}  // namespace gemma3n::testing
