// One line of an OpenAI batch input file (the format OpenAI's Batch API and
// vLLM's run-batch read): {"custom_id", "method": "POST", "url", "body"}.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n::batch {

struct BatchRequest {
  std::string custom_id;
  std::string url;       // "/v1/chat/completions" or "/v1/completions"
  nlohmann::json body;   // sent as is: the server validates it
};

// The endpoints a batch line may name (the HTTP API's generation endpoints).
bool IsBatchEndpoint(std::string_view url);

// InvalidArgument naming what is wrong with the line (its number is added by
// the caller). `custom_id` is set whenever the line has one, even when the
// rest is bad, so the error line can name it.
absl::StatusOr<BatchRequest> ParseBatchLine(std::string_view line, std::string* custom_id);

}  // namespace gemma3n::batch
