// Admission control: max_active run at once, max_queued wait, more are
// refused at once; a waiting request gets the next free slot, or gives up.
#include "gateway/admission.h"

#include <atomic>
#include <chrono>
#include <thread>

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
