// FinishReason -> gemma3n.v1.FinishReason, the public API's wire enum (the
// gateway only writes it). A generation that is still running or failed has
// no public reason (UNSPECIFIED); cancellation ends the call with CANCELLED.
#pragma once

#include "common/serving/finish_reason.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n {

inline v1::FinishReason ToPublicFinish(FinishReason f) {
  switch (f) {
    case FinishReason::kStopToken: return v1::FINISH_REASON_STOP;
    case FinishReason::kStopString: return v1::FINISH_REASON_STOP_STRING;
    case FinishReason::kMaxTokens: return v1::FINISH_REASON_MAX_TOKENS;
    case FinishReason::kContextFull: return v1::FINISH_REASON_CONTEXT_FULL;
    case FinishReason::kNone:
    case FinishReason::kCancelled: break;
  }
  return v1::FINISH_REASON_UNSPECIFIED;
}

}  // namespace gemma3n
