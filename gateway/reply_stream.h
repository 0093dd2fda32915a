// The public side of one generation on one text worker: the worker's token
// ids become UTF-8-safe text (the streaming detokenizer), text that may start
// a stop string is held back, and what the last message reports (finish
// reason, usage) is counted as the tokens arrive.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/serving/finish_reason.h"
#include "common/tokenizer/streaming_decoder.h"
#include "common/tokenizer/tokenizer.h"
#include "gateway/stop_strings.h"
#include "gemma3n/internal/v1/internal.pb.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n {

class ReplyStream {
 public:
  using Clock = std::chrono::steady_clock;

  // start: when the request arrived (for the time to the first token).
  // include_special_tokens: control tokens appear in the text (else not).
  ReplyStream(const Tokenizer& tokenizer, std::vector<std::string> stop_strings, Clock::time_point start,
              bool include_special_tokens = false);

  // One message of the worker -> the message for the client: the same token
  // ids and the text now safe to send (possibly none). After it, finish()
  // says whether the generation is over.
  absl::StatusOr<v1::GenerateResponse> Add(const internal::v1::TextGenerateResponse& in);
  // kNone while the generation goes on; kStopString once the text reached a
  // stop string (the worker should be cancelled); else the worker's end.
  FinishReason finish() const { return finish_; }
  int generated() const { return generated_; }

  // Completes `last` (what Add returned for the worker's final message) into
  // the final message: the held-back text (unless a stop string cut it off),
  // the finish reason and the usage.
  absl::StatusOr<v1::GenerateResponse> Close(v1::GenerateResponse last, int prompt_tokens);

 private:
  StreamingDecoder decoder_;
  StopStringFilter stops_;
  const Clock::time_point start_;
  Clock::time_point first_token_, last_token_;
  int generated_ = 0;
  int cached_prompt_tokens_ = 0;  // as the worker reports it (on every message once the sequence runs)
  FinishReason finish_ = FinishReason::kNone;
};

}  // namespace gemma3n
