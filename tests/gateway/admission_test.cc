// Admission control: max_active run at once, max_queued wait, more are
// refused at once; waiting requests get freed slots first come, first
// served, and one that gives up leaves the line without costing a slot.
#include "gateway/admission.h"

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/eventually.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;
using testing::Eventually;

TEST(AdmissionTest, RefusesBeyondRunningAndWaitingLimits) {
  Admission a(/*max_active=*/2, /*max_queued=*/0);
  EXPECT_TRUE(a.Acquire(nullptr).ok());
  EXPECT_TRUE(a.Acquire(nullptr).ok());
  absl::Status refused = a.Acquire(nullptr);
  EXPECT_EQ(refused.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(refused.message(), HasSubstr("2 requests running and 0 waiting"));
  EXPECT_EQ(a.active(), 2);
  a.Release();
  EXPECT_TRUE(a.Acquire(nullptr).ok());
}

TEST(AdmissionTest, AWaitingRequestTakesTheNextFreeSlot) {
  Admission a(1, 1);
  ASSERT_TRUE(a.Acquire(nullptr).ok());
  std::atomic<bool> admitted{false};
  std::thread waiter([&] {
    EXPECT_TRUE(a.Acquire(nullptr).ok());
    admitted = true;
  });
  ASSERT_TRUE(Eventually([&] { return a.queued() == 1; }));
  EXPECT_EQ(a.Acquire(nullptr).code(), absl::StatusCode::kResourceExhausted);  // the queue is full
  EXPECT_FALSE(admitted);
  a.Release();
  waiter.join();
  EXPECT_TRUE(admitted);
  EXPECT_EQ(a.active(), 1);
  EXPECT_EQ(a.queued(), 0);
}

TEST(AdmissionTest, AWaitingRequestCanGiveUp) {
  Admission a(1, 4);
  ASSERT_TRUE(a.Acquire(nullptr).ok());
  std::atomic<bool> cancel{false};
  absl::Status waited;
  std::thread waiter([&] { waited = a.Acquire([&] { return cancel.load(); }); });
  ASSERT_TRUE(Eventually([&] { return a.queued() == 1; }));
  cancel = true;
  waiter.join();
  EXPECT_EQ(waited.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(a.queued(), 0);
  EXPECT_EQ(a.active(), 1);
}

// Starts one thread per entry of `give_up` (nullptr: never), each queued
// behind the previous one, which records when it gets a slot and frees it.
class Line {
 public:
  Line(Admission& a, int n, const std::vector<std::atomic<bool>*>& give_up = {}) : a_(a), results_(n) {
    for (int i = 0; i < n; ++i) {
      std::atomic<bool>* cancel = i < static_cast<int>(give_up.size()) ? give_up[i] : nullptr;
      const int before = a.queued();
      threads_.emplace_back([this, i, cancel] {
        results_[i] = a_.Acquire([cancel] { return cancel != nullptr && cancel->load(); });
        if (!results_[i].ok()) return;
        {
          std::lock_guard<std::mutex> lock(mu_);
          admitted_.push_back(i);
        }
        a_.Release();
      });
      EXPECT_TRUE(Eventually([&] { return a.queued() == before + 1; })) << "waiter " << i << " never queued";
    }
  }
  // Joins the threads; the waiters in the order they got their slots.
  std::vector<int> Finish() {
    for (std::thread& t : threads_) t.join();
    threads_.clear();
    return admitted_;
  }
  const absl::Status& result(int i) const { return results_[i]; }

 private:
  Admission& a_;
  std::vector<absl::Status> results_;
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::vector<int> admitted_;
};

TEST(AdmissionTest, WaitersGetSlotsInTheOrderTheyArrived) {
  constexpr int kWaiters = 12;
  Admission a(1, kWaiters);
  ASSERT_TRUE(a.Acquire(nullptr).ok());
  Line line(a, kWaiters);
  a.Release();
  std::vector<int> expected;
  for (int i = 0; i < kWaiters; ++i) expected.push_back(i);
  EXPECT_EQ(line.Finish(), expected);
  EXPECT_EQ(a.active(), 0);
}

TEST(AdmissionTest, AFreedSlotGoesToTheOldestWaiterNotToANewcomer) {
  Admission a(1, 1);
  ASSERT_TRUE(a.Acquire(nullptr).ok());
  std::atomic<bool> waiter_may_finish{false};
  std::thread waiter([&] {
    ASSERT_TRUE(a.Acquire(nullptr).ok());
    ASSERT_TRUE(Eventually([&] { return waiter_may_finish.load(); }));
    a.Release();
  });
  ASSERT_TRUE(Eventually([&] { return a.queued() == 1; }));
  a.Release();
  // The slot is the waiter's from here on, whether or not it has woken yet.
  EXPECT_EQ(a.active(), 1);
  EXPECT_EQ(a.queued(), 0);
  const absl::Status newcomer = a.Acquire([] { return true; });  // would wait: gives up at once
  EXPECT_EQ(newcomer.code(), absl::StatusCode::kCancelled) << newcomer;
  if (newcomer.ok()) a.Release();  // it took the waiter's slot: give it back, not to hang
  waiter_may_finish = true;
  waiter.join();
  EXPECT_EQ(a.active(), 0);
}

TEST(AdmissionTest, AWaiterThatGivesUpLeavesTheLineAndTheOthersKeepTheirTurn) {
  Admission a(1, 3);
  ASSERT_TRUE(a.Acquire(nullptr).ok());
  std::atomic<bool> cancel_second{false};
  Line line(a, 3, {nullptr, &cancel_second, nullptr});
  cancel_second = true;
  ASSERT_TRUE(Eventually([&] { return a.queued() == 2; }));
  EXPECT_EQ(a.active(), 1);  // still the first holder's
  a.Release();
  EXPECT_EQ(line.Finish(), (std::vector<int>{0, 2}));
  EXPECT_EQ(line.result(1).code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(a.active(), 0);
  EXPECT_EQ(a.queued(), 0);
}

TEST(AdmissionTest, ASlotReleasesWhenItGoesOutOfScope) {
  Admission a(1, 0);
  {
    ASSERT_TRUE(a.Acquire(nullptr).ok());
    Admission::Slot slot(&a);
    EXPECT_EQ(a.active(), 1);
  }
  EXPECT_EQ(a.active(), 0);
}

}  // namespace
}  // namespace gemma3n
