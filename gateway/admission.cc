#include "gateway/admission.h"

#include <chrono>

#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::Status Admission::Acquire(const std::function<bool()>& give_up) {
  std::unique_lock<std::mutex> lock(mu_);
  if (active_ < max_active_) {
    ++active_;
    return absl::OkStatus();
  }
  if (queued_ >= max_queued_) {
    return absl::ResourceExhaustedError(absl::StrCat("the server is busy: ", active_, " requests running and ",
                                                     queued_, " waiting (limits ", max_active_, " and ",
                                                     max_queued_, "); retry later"));
  }
  ++queued_;
  while (active_ >= max_active_) {
    cv_.wait_for(lock, std::chrono::milliseconds(50));
    if (active_ < max_active_) break;
    if (give_up && give_up()) {
      --queued_;
      return absl::CancelledError("cancelled while waiting for a free slot");
    }
  }
  --queued_;
  ++active_;
  return absl::OkStatus();
}

void Admission::Release() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    --active_;
  }
  cv_.notify_one();
}

int Admission::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

int Admission::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queued_;
}

}  // namespace gemma3n
