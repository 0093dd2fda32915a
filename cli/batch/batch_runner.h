// Runs a batch input file against an Endpoint: up to `concurrency` requests
// at once, transient answers (429, 5xx, no answer) retried with back-off, one
// result or error line per request appended to the output as it finishes
// (so an interrupted run loses nothing finished), custom_ids already done in
// the output skipped.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "cli/batch/endpoint.h"

namespace gemma3n::batch {

struct BatchOptions {
  std::string input_path;
  std::string output_path;
  int concurrency = 8;
  int max_attempts = 5;                               // per request, transient answers
  std::chrono::milliseconds first_backoff{500};       // doubled per attempt, at most 30 s
};

struct BatchCounts {
  int64_t total = 0;     // request lines in the input
  int64_t skipped = 0;   // already done in the output
  int64_t succeeded = 0; // HTTP 200
  int64_t failed = 0;    // an error line, or a non-200 answer
};

// `on_progress` is called (from one thread at a time) after each request.
absl::StatusOr<BatchCounts> RunBatch(const BatchOptions& options, Endpoint& endpoint,
                                     const std::function<void(const BatchCounts&)>& on_progress);

}  // namespace gemma3n::batch
