// Admission control of the gateway: at most `max_active` requests run at
// once, at most `max_queued` wait for a slot; beyond that a request is
// refused at once with RESOURCE_EXHAUSTED (backpressure), and a waiting
// request gives up when its client cancels or its deadline passes.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "absl/status/status.h"

namespace gemma3n {

class Admission {
 public:
  Admission(int max_active, int max_queued) : max_active_(max_active), max_queued_(max_queued) {}

  // Blocks until a slot is free; `give_up` is polled while waiting.
  absl::Status Acquire(const std::function<bool()>& give_up);
  void Release();

  // RAII slot.
  class Slot {
   public:
    explicit Slot(Admission* a) : a_(a) {}
    ~Slot() { if (a_) a_->Release(); }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
   private:
    Admission* a_;
  };

  int active() const;
  int queued() const;

 private:
  const int max_active_;
  const int max_queued_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  int active_ = 0;
  int queued_ = 0;
};

}  // namespace gemma3n
