// The batch scheduler over a scripted model (FakeModelExecutor: greedy
// decoding continues each sequence with last id + 1): how sequences end (stop
// id, token limit, full context), queueing and backpressure, cancellation
// while a batch is in flight, a sequence finishing while others go on, the
// prefill budget, forward failures and shutdown.
#include "text_worker/serving/batch_scheduler.h"

#include <chrono>
#include <memory>
#include <numeric>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/serving/fake_model_executor.h"
#include "tests/support/eventually.h"

namespace gemma3n {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::Eventually;
using testing::FakeModelExecutor;
using Batches = std::vector<std::vector<std::vector<int>>>;

struct Outcome {
  std::vector<int> tokens;
  absl::Status status;
  FinishReason finish = FinishReason::kNone;
  int prompt_tokens = 0;
};

// Reads the stream until it is done (a test failure after 5 s).
Outcome Drain(SequenceStream& stream) {
  Outcome o;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (std::chrono::steady_clock::now() < deadline) {
    SequenceUpdate u = stream.Wait(std::chrono::milliseconds(20));
    o.tokens.insert(o.tokens.end(), u.tokens.begin(), u.tokens.end());
    if (u.done) {
      o.status = u.status;
      o.finish = u.finish;
      o.prompt_tokens = u.prompt_tokens;
      return o;
    }
  }
  ADD_FAILURE() << "the sequence did not finish within 5 s";
  return o;
}

SequenceRequest Request(std::vector<int> prompt, int max_new_tokens) {
  SequenceRequest r;
  r.prompt = std::move(prompt);
  r.max_new_tokens = max_new_tokens;
  return r;
}

std::vector<int> Range(int first, int count) {
  std::vector<int> v(count);
  std::iota(v.begin(), v.end(), first);
  return v;
}

class BatchSchedulerTest : public ::testing::Test {
 protected:
  void Start(SchedulerOptions options = {}) { scheduler_ = std::make_unique<BatchScheduler>(model_, options); }
  std::shared_ptr<SequenceStream> Submit(SequenceRequest r) {
    auto s = scheduler_->Submit(std::move(r));
    EXPECT_TRUE(s.ok()) << s.status();
    return s.ok() ? *s : std::make_shared<SequenceStream>();
  }
  // Holds the model, submits `a` and waits until its first forward is in
  // flight, then submits `b`: b joins a at the next step, deterministically.
  std::pair<std::shared_ptr<SequenceStream>, std::shared_ptr<SequenceStream>> SubmitBehind(SequenceRequest a,
                                                                                            SequenceRequest b) {
    model_.Hold();
    auto first = Submit(std::move(a));
    EXPECT_TRUE(model_.WaitStarted(1));
    return {first, Submit(std::move(b))};
  }
  // A held forward would block the scheduler's destructor.
  void TearDown() override {
    model_.Release();
    scheduler_.reset();
  }

  FakeModelExecutor model_;
  std::unique_ptr<BatchScheduler> scheduler_;
};

TEST_F(BatchSchedulerTest, DecodesUntilTheTokenLimit) {
  Start();
  Outcome o = Drain(*Submit(Request({5, 6}, 4)));
  EXPECT_TRUE(o.status.ok()) << o.status;
  EXPECT_THAT(o.tokens, ElementsAre(7, 8, 9, 10));
  EXPECT_EQ(o.finish, FinishReason::kMaxTokens);
  EXPECT_EQ(o.prompt_tokens, 2);
  // The last token is emitted but never fed back.
  EXPECT_EQ(model_.batches(), (Batches{{{5, 6}}, {{7}}, {{8}}, {{9}}}));
}

TEST_F(BatchSchedulerTest, AStopIdEndsTheSequenceWithoutBeingEmitted) {
  Start();
  SequenceRequest r = Request({5}, 10);
  r.stop_ids = {9, 200};
  Outcome o = Drain(*Submit(r));
  EXPECT_THAT(o.tokens, ElementsAre(6, 7, 8));
  EXPECT_EQ(o.finish, FinishReason::kStopToken);
}

TEST_F(BatchSchedulerTest, AFullContextEndsTheSequenceWithContextFull) {
  SchedulerOptions options;
  options.context_limit = 8;
  Start(options);
  Outcome o = Drain(*Submit(Request(Range(1, 5), 10)));
  // 5 prompt + 3 run tokens fill the 8 positions; the 4th token has no room.
  EXPECT_THAT(o.tokens, ElementsAre(6, 7, 8, 9));
  EXPECT_EQ(o.finish, FinishReason::kContextFull);
}

TEST_F(BatchSchedulerTest, ASequenceFinishingLeavesTheOthersRunning) {
  Start();
  auto [a, b] = SubmitBehind(Request({10}, 2), Request({100}, 5));
  model_.Release();
  Outcome oa = Drain(*a), ob = Drain(*b);
  EXPECT_THAT(oa.tokens, ElementsAre(11, 12));
  EXPECT_EQ(oa.finish, FinishReason::kMaxTokens);
  EXPECT_THAT(ob.tokens, ElementsAre(101, 102, 103, 104, 105));
  EXPECT_EQ(ob.finish, FinishReason::kMaxTokens);
  EXPECT_EQ(model_.batches(), (Batches{{{10}}, {{11}, {100}}, {{101}}, {{102}}, {{103}}, {{104}}}));
}

TEST_F(BatchSchedulerTest, CancellingMidBatchDropsOnlyThatSequence) {
  Start();
  auto [a, b] = SubmitBehind(Request({10}, 50), Request({100}, 6));
  model_.Allow(2);
  ASSERT_TRUE(model_.WaitStarted(3));  // the third forward, holding both, waits
  a->Cancel();
  model_.Release();
  Outcome oa = Drain(*a), ob = Drain(*b);
  EXPECT_EQ(oa.status.code(), absl::StatusCode::kCancelled) << oa.status;
  EXPECT_EQ(oa.finish, FinishReason::kNone);
  EXPECT_THAT(ob.tokens, ElementsAre(101, 102, 103, 104, 105, 106));
  EXPECT_EQ(ob.finish, FinishReason::kMaxTokens);
  // a rode along in the forward already in flight, and in none after it.
  EXPECT_EQ(model_.batches(),
            (Batches{{{10}}, {{11}, {100}}, {{12}, {101}}, {{102}}, {{103}}, {{104}}, {{105}}}));
  // Both KV caches are freed (b's just after its stream finished).
  EXPECT_TRUE(Eventually([&] { return scheduler_->stats().active == 0; }));
}

TEST_F(BatchSchedulerTest, CancellingAQueuedSequenceNeverRunsIt) {
  SchedulerOptions options;
  options.max_sequences = 1;
  Start(options);
  auto [a, b] = SubmitBehind(Request({10}, 3), Request({100}, 3));
  b->Cancel();
  model_.Release();
  EXPECT_THAT(Drain(*a).tokens, ElementsAre(11, 12, 13));
  EXPECT_EQ(Drain(*b).status.code(), absl::StatusCode::kCancelled);
  EXPECT_EQ(model_.batches(), (Batches{{{10}}, {{11}}, {{12}}}));
}

TEST_F(BatchSchedulerTest, QueuesBeyondMaxSequencesAndRefusesBeyondMaxQueued) {
  SchedulerOptions options;
  options.max_sequences = 1;
  options.max_queued = 1;
  Start(options);
  auto [a, b] = SubmitBehind(Request({10}, 3), Request({100}, 2));
  absl::StatusOr<std::shared_ptr<SequenceStream>> c = scheduler_->Submit(Request({200}, 2));
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(c.status().message(), HasSubstr("1 waiting"));
  model_.Release();
  EXPECT_THAT(Drain(*a).tokens, ElementsAre(11, 12, 13));
  EXPECT_THAT(Drain(*b).tokens, ElementsAre(101, 102));
  // One sequence per forward; b starts once a is done.
  EXPECT_EQ(model_.batches(), (Batches{{{10}}, {{11}}, {{12}}, {{100}}, {{101}}}));
}

TEST_F(BatchSchedulerTest, PromptsPrefillWithinTheBudgetWhileOthersDecode) {
  SchedulerOptions options;
  options.prefill_tokens_per_step = 4;
  Start(options);
  auto [a, b] = SubmitBehind(Request({10}, 5), Request(Range(100, 10), 1));
  model_.Release();
  EXPECT_THAT(Drain(*a).tokens, ElementsAre(11, 12, 13, 14, 15));
  EXPECT_THAT(Drain(*b).tokens, ElementsAre(110));
  EXPECT_EQ(model_.batches(), (Batches{{{10}},
                                       {{11}, {100, 101, 102, 103}},
                                       {{12}, {104, 105, 106, 107}},
                                       {{13}, {108, 109}},
                                       {{14}}}));
}

TEST_F(BatchSchedulerTest, AFailedForwardFailsItsBatchAndServingGoesOn) {
  Start();
  auto [a, b] = SubmitBehind(Request({10}, 5), Request({100}, 5));
  model_.FailForward(1, absl::UnavailableError("the PLE service is down"));
  model_.Release();
  Outcome oa = Drain(*a), ob = Drain(*b);
  EXPECT_EQ(oa.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(oa.tokens, ElementsAre(11));
  EXPECT_EQ(ob.status.code(), absl::StatusCode::kUnavailable);
  EXPECT_TRUE(ob.tokens.empty());
  Outcome oc = Drain(*Submit(Request({50}, 2)));
  EXPECT_TRUE(oc.status.ok()) << oc.status;
  EXPECT_THAT(oc.tokens, ElementsAre(51, 52));
}

TEST_F(BatchSchedulerTest, ShutdownFailsRunningAndQueuedSequences) {
  SchedulerOptions options;
  options.max_sequences = 1;
  Start(options);
  model_.Hold();
  auto a = Submit(Request({10}, 1000000));  // far more steps than the shutdown takes
  ASSERT_TRUE(model_.WaitStarted(1));
  auto b = Submit(Request({100}, 2));
  std::thread stop([&] { scheduler_.reset(); });
  // Let the destructor ask the loop to stop before the held forward returns.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  model_.Release();
  stop.join();
  EXPECT_EQ(Drain(*a).status.code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(Drain(*b).status.code(), absl::StatusCode::kUnavailable);
}

TEST_F(BatchSchedulerTest, RefusesRequestsItCannotRun) {
  SchedulerOptions options;
  options.context_limit = 8;
  Start(options);
  EXPECT_EQ(scheduler_->Submit(Request({}, 4)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scheduler_->Submit(Request(Range(1, 8), 4)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(scheduler_->Submit(Request({3, 256}, 4)).status().message(), HasSubstr("outside the vocabulary"));
  SequenceRequest soft = Request({3, 4}, 4);
  soft.soft.positions = {1};
  soft.soft.rows = {1.0f, 2.0f};  // the fake's rows are 4 wide
  EXPECT_EQ(scheduler_->Submit(soft).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(model_.batches().empty());
}

TEST_F(BatchSchedulerTest, ANextTurnPrefillsOnlyWhatFollowsTheFinishedSequence) {
  SchedulerOptions options;
  options.prefix_cache_bytes = 1 << 20;
  Start(options);
  Outcome first = Drain(*Submit(Request({5, 6, 7}, 3)));
  EXPECT_THAT(first.tokens, ElementsAre(8, 9, 10));
  // Two entries: the prompt, and prompt + reply at the end.
  ASSERT_TRUE(Eventually([&] { return scheduler_->stats().prefix_cache.entries == 2; }));
  // The next turn resends the prompt and the reply (10 was emitted, never
  // run) and adds its own token: only 10 and 50 are prefilled.
  Outcome second = Drain(*Submit(Request({5, 6, 7, 8, 9, 10, 50}, 2)));
  EXPECT_THAT(second.tokens, ElementsAre(51, 52));
  EXPECT_EQ(second.prompt_tokens, 7);
  EXPECT_EQ(model_.batches(), (Batches{{{5, 6, 7}}, {{8}}, {{9}}, {{10, 50}}, {{51}}}));
  ASSERT_TRUE(Eventually([&] { return scheduler_->stats().prefix_cache.entries == 4; }));
  EXPECT_EQ(scheduler_->stats().prefix_cache.hits, 1);
  EXPECT_EQ(scheduler_->stats().prefix_cache.reused_tokens, 5);
}

TEST_F(BatchSchedulerTest, APromptSharingTheStartOfAnEarlierOneReusesThatStart) {
  SchedulerOptions options;
  options.prefix_cache_bytes = 1 << 20;
  Start(options);
  Drain(*Submit(Request(Range(1, 10), 2)));  // a "system prompt" 1..6, then 7..10
  ASSERT_TRUE(Eventually([&] { return scheduler_->stats().prefix_cache.entries == 2; }));
  Outcome other = Drain(*Submit(Request({1, 2, 3, 4, 5, 6, 50, 51}, 1)));
  EXPECT_THAT(other.tokens, ElementsAre(52));
  EXPECT_EQ(model_.batches().back(), (std::vector<std::vector<int>>{{50, 51}}));
  EXPECT_EQ(scheduler_->stats().prefix_cache.reused_tokens, 6);
}

TEST_F(BatchSchedulerTest, OnlyTheSamePlanReusesAPrefix) {
  SchedulerOptions options;
  options.prefix_cache_bytes = 1 << 20;
  Start(options);
  ElasticPlan small, large;
  SequenceRequest a = Request({5, 6, 7}, 1);
  a.plan = &small;
  Drain(*Submit(a));
  // One entry: the cache at the end holds just the prompt again.
  ASSERT_TRUE(Eventually([&] { return scheduler_->stats().prefix_cache.entries == 1; }));
  SequenceRequest b = Request({5, 6, 7, 8}, 1);
  b.plan = &large;
  Drain(*Submit(b));  // prefilled whole
  SequenceRequest c = Request({5, 6, 7, 9}, 1);
  c.plan = &small;
  Drain(*Submit(c));  // a's 3 tokens reused
  EXPECT_EQ(model_.batches(), (Batches{{{5, 6, 7}}, {{5, 6, 7, 8}}, {{9}}}));
  EXPECT_EQ(scheduler_->stats().prefix_cache.hits, 1);
}

}  // namespace
}  // namespace gemma3n
