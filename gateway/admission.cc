#include "gateway/admission.h"

#include "absl/strings/str_cat.h"

namespace gemma3n {

absl::Status Admission::Acquire(const std::function<bool()>& give_up) {
  std::unique_lock<std::mutex> lock(mu_);
  if (active_ < max_active_) {  // then nobody waits: Release hands slots over while someone does
    ++active_;
    return absl::OkStatus();
  }
  if (static_cast<int>(line_.size()) >= max_queued_) {
    return absl::ResourceExhaustedError(absl::StrCat("the server is busy: ", active_, " requests running and ",
                                                     line_.size(), " waiting (limits ", max_active_, " and ",
                                                     max_queued_, "); retry later"));
  }
  Waiter me;
  const std::list<Waiter*>::iterator place = line_.insert(line_.end(), &me);
  while (!me.admitted) {
    if (give_up && give_up()) {
      line_.erase(place);  // the slots go on to those behind
      return absl::CancelledError("cancelled while waiting for a free slot");
    }
    me.handed_over.wait_for(lock, kGiveUpPollInterval);
  }
  return absl::OkStatus();  // Release took `me` out of the line and counted the slot as ours
}

void Admission::Release() {
  std::lock_guard<std::mutex> lock(mu_);
  if (line_.empty()) {
    --active_;
    return;
  }
  Waiter* oldest = line_.front();
  line_.pop_front();
  oldest->admitted = true;
  // Under the lock: once it is released the waiter may return and its Waiter be gone.
  oldest->handed_over.notify_one();
}

int Admission::active() const {
  std::lock_guard<std::mutex> lock(mu_);
  return active_;
}

int Admission::queued() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(line_.size());
}

}  // namespace gemma3n
