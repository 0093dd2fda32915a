// Admission control of the gateway: at most `max_active` requests run at
// once, at most `max_queued` wait for a slot; beyond that a request is
// refused at once with RESOURCE_EXHAUSTED (backpressure). Waiting requests
// are served first come, first served: a freed slot is handed to the oldest
// waiter directly, so a newcomer never overtakes the line. A waiter that
// gives up (its client cancelled, its deadline passed) leaves the line.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <list>
#include <mutex>

#include "absl/status/status.h"

namespace gemma3n {

class Admission {
 public:
  // How often a waiter asks `give_up`: the delay before a cancelled waiter
  // leaves the line (a freed slot wakes its waiter at once, not on this tick).
  static constexpr std::chrono::milliseconds kGiveUpPollInterval{50};

  Admission(int max_active, int max_queued) : max_active_(max_active), max_queued_(max_queued) {}

  // A slot now, or a place at the end of the line until one is handed over.
  // `give_up` (may be null) is polled while waiting: true leaves the line
  // with CANCELLED. A slot handed over before that is kept (OK).
  absl::Status Acquire(const std::function<bool()>& give_up);
  // Hands the slot to the oldest waiter, or frees it when nobody waits.
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
  // One request in line; lives on its Acquire's stack.
  struct Waiter {
    std::condition_variable handed_over;
    bool admitted = false;
  };

  const int max_active_;
  const int max_queued_;
  mutable std::mutex mu_;
  int active_ = 0;              // slots held, including those handed to a waiter not yet awake
  std::list<Waiter*> line_;     // oldest first; non-empty only while all slots are held
};

}  // namespace gemma3n
