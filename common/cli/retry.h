// Bounded retries with exponential back-off for transient failures
// (UNAVAILABLE: a cut connection, a timeout, an HTTP 429 or 5xx), for every
// client that talks to a server that may come back (pull, batch). Any other
// status is final and returned at once.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "absl/status/status.h"

namespace gemma3n {

// 429 and 5xx: the server asks to come back later (a full queue, a worker
// down); any other answer is final.
bool IsTransientHttpStatus(long status);

struct RetryPolicy {
  int max_attempts = 5;
  std::chrono::milliseconds first_backoff{500};  // doubled after each failure
  std::chrono::milliseconds max_backoff{8000};
};

// Runs `attempt` until it is not UNAVAILABLE or the attempts are spent; logs
// each retry, naming `what`.
absl::Status WithRetries(const RetryPolicy& policy, const std::string& what,
                         const std::function<absl::Status()>& attempt);

}  // namespace gemma3n
