// How a generation ended: the one C++ enum for the decoding loops
// (NextToken, Generate), the batch scheduler, the text worker's stream and
// the gateway. The wire enums map to and from it in one place each:
// gemma3n.internal.v1.TextFinish in common/serving/text_finish.h, the public
// gemma3n.v1.FinishReason in gateway/public_finish.h.
#pragma once

namespace gemma3n {

enum class FinishReason {
  kNone,         // still running, or failed (its status says why)
  kStopToken,    // a stop id (end of turn / of sequence) was sampled; it is not emitted
  kStopString,   // the text reached one of the request's stop strings (gateway only)
  kMaxTokens,    // the request's max_new_tokens were generated
  kContextFull,  // prompt + generated tokens fill the context
  kCancelled,    // the caller stopped it (Generate's on_token returned false)
};

}  // namespace gemma3n
