#include "common/tokenizer/streaming_decoder.h"

#include "absl/strings/match.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {
constexpr char kReplacement[] = "\xEF\xBF\xBD";
}

absl::StatusOr<std::string> StreamingDecoder::Push(int id) {
  if (skip_control_tokens_ && tokenizer_.IsControlToken(id)) return std::string();
  ids_.push_back(id);
  absl::Span<const int> all(ids_);
  ASSIGN_OR_RETURN(std::string prefix, tokenizer_.Decode(all.subspan(prefix_offset_, read_offset_ - prefix_offset_)));
  ASSIGN_OR_RETURN(std::string text, tokenizer_.Decode(all.subspan(prefix_offset_)));
  // A trailing U+FFFD means a byte sequence is still incomplete: wait.
  if (text.size() <= prefix.size() || absl::EndsWith(text, kReplacement) || !absl::StartsWith(text, prefix)) {
    return std::string();
  }
  std::string fresh = text.substr(prefix.size());
  prefix_offset_ = read_offset_;
  read_offset_ = ids_.size();
  return fresh;
}

absl::StatusOr<std::string> StreamingDecoder::Flush() {
  absl::Span<const int> all(ids_);
  ASSIGN_OR_RETURN(std::string prefix, tokenizer_.Decode(all.subspan(prefix_offset_, read_offset_ - prefix_offset_)));
  ASSIGN_OR_RETURN(std::string text, tokenizer_.Decode(all.subspan(prefix_offset_)));
  prefix_offset_ = read_offset_ = ids_.size();
  if (text.size() <= prefix.size() || !absl::StartsWith(text, prefix)) return std::string();
  return text.substr(prefix.size());
}

}  // namespace gemma3n
