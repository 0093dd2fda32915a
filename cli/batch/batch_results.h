// The batch output file: one JSON line per request, in the format OpenAI's
// Batch API and vLLM's run-batch write:
//   {"id", "custom_id", "response": {"status_code", "request_id", "body"}, "error": null}
// or, for a request that got no HTTP answer (a bad input line, the server
// unreachable): {"id", "custom_id", "response": null, "error": {"code", "message"}}.
// A rerun with the same output keeps the final answers and runs the rest.
#pragma once

#include <set>
#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n::batch {

// `custom_id` empty -> null (a line without one).
std::string ResultLine(const std::string& line_id, const std::string& custom_id, int status_code,
                       const nlohmann::json& body);
// code: "invalid_request" (the input line), "request_failed" (no answer).
std::string ErrorLine(const std::string& line_id, const std::string& custom_id, const std::string& code,
                      const std::string& message);

// Reads an existing output file and rewrites it (to a temporary name, then
// renamed) with only its final results: a line that does not parse (cut off
// by an interrupted run), has no custom_id, or records a transient answer or
// no answer is dropped, so the rerun tries that request again. Returns the
// custom_ids kept. A missing file is an empty set.
absl::StatusOr<std::set<std::string>> KeepFinishedResults(const std::string& path);

}  // namespace gemma3n::batch
