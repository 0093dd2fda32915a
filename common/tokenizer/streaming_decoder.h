// Incremental detokenization for streaming: fed one id at a time, returns the
// text that is now final. It never emits part of a UTF-8 character (bytes of
// byte-fallback tokens wait until their character is complete) and never
// takes back text it emitted: each piece is decoded together with the ids
// before it, and only the new suffix is returned (as Hugging Face's
// DecodeStream does), so tokenizers whose decoding depends on context (a
// SentencePiece leading space) stream exactly what a full decode gives.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/tokenizer/tokenizer.h"

namespace gemma3n {

class StreamingDecoder {
 public:
  // skip_control_tokens: control tokens (Tokenizer::IsControlToken) add no
  // text, as if they were not in the stream (Hugging Face's
  // skip_special_tokens, the convention of serving APIs): a reply's text
  // then never holds "<end_of_turn>", and history sent back cannot carry one.
  explicit StreamingDecoder(const Tokenizer& tokenizer, bool skip_control_tokens = false)
      : tokenizer_(tokenizer), skip_control_tokens_(skip_control_tokens) {}

  // New final text after `id` (often empty while a character is incomplete).
  absl::StatusOr<std::string> Push(int id);
  // Whatever is left at the end of the stream (incomplete bytes as U+FFFD).
  absl::StatusOr<std::string> Flush();

 private:
  const Tokenizer& tokenizer_;
  const bool skip_control_tokens_;
  std::vector<int> ids_;
  size_t prefix_offset_ = 0;  // ids decoded only as context
  size_t read_offset_ = 0;    // ids whose text was emitted
};

}  // namespace gemma3n
