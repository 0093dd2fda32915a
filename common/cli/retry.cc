#include "common/cli/retry.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

bool IsTransientHttpStatus(long status) { return status == 429 || (status >= 500 && status <= 599); }

absl::Status WithRetries(const RetryPolicy& policy, const std::string& what,
                         const std::function<absl::Status()>& attempt) {
  std::chrono::milliseconds backoff = policy.first_backoff;
  absl::Status status;
  for (int i = 1; i <= policy.max_attempts; ++i) {
    status = attempt();
    if (!absl::IsUnavailable(status)) return status;
    if (i == policy.max_attempts) break;
    spdlog::warn("{}: {} (attempt {} of {}; again in {} ms)", what, std::string(status.message()), i, policy.max_attempts,
                 backoff.count());
    std::this_thread::sleep_for(backoff);
    backoff = std::min(backoff * 2, policy.max_backoff);
  }
  return absl::UnavailableError(
      absl::StrCat(what, ": gave up after ", policy.max_attempts, " attempts: ", status.message()));
}

}  // namespace gemma3n
