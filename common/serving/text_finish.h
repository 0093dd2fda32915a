// FinishReason <-> gemma3n.internal.v1.TextFinish, the text worker's wire
// enum: written by the worker, read by the gateway. Only the ends a worker
// reports have a wire value; the others (stop strings are the gateway's,
// cancellation ends the call with CANCELLED) travel as TEXT_FINISH_NONE.
#pragma once

#include "common/serving/finish_reason.h"
#include "gemma3n/internal/v1/internal.pb.h"

namespace gemma3n {

inline internal::v1::TextFinish ToTextFinish(FinishReason f) {
  switch (f) {
    case FinishReason::kStopToken: return internal::v1::TEXT_FINISH_STOP_TOKEN;
    case FinishReason::kMaxTokens: return internal::v1::TEXT_FINISH_MAX_TOKENS;
    case FinishReason::kContextFull: return internal::v1::TEXT_FINISH_CONTEXT_FULL;
    case FinishReason::kNone:
    case FinishReason::kStopString:
    case FinishReason::kCancelled: break;
  }
  return internal::v1::TEXT_FINISH_NONE;
}

inline FinishReason FromTextFinish(internal::v1::TextFinish f) {
  switch (f) {
    case internal::v1::TEXT_FINISH_STOP_TOKEN: return FinishReason::kStopToken;
    case internal::v1::TEXT_FINISH_MAX_TOKENS: return FinishReason::kMaxTokens;
    case internal::v1::TEXT_FINISH_CONTEXT_FULL: return FinishReason::kContextFull;
    default: return FinishReason::kNone;
  }
}

}  // namespace gemma3n
