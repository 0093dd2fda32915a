// The prefix cache on the real decoder (the tiny model, sliding window 8):
// a conversation run turn by turn through two schedulers, one with the
// cache and one without, gives the same tokens at every turn, greedy and
// sampled with a seed, with image rows in the history, while the cached one
// really reuses each earlier turn (past the window, so its rings wrapped).
#include <memory>
#include <random>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/serving/batch_scheduler.h"
#include "text_worker/serving/text_model_executor.h"

namespace gemma3n {
namespace {

std::vector<int> RandomIds(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> id(10, 509);
  std::vector<int> ids(n);
  for (int& i : ids) i = id(rng);
  return ids;
}

std::vector<int> Generate(BatchScheduler& scheduler, SequenceRequest request) {
  auto stream = scheduler.Submit(std::move(request));
  EXPECT_TRUE(stream.ok()) << stream.status();
  if (!stream.ok()) return {};
  std::vector<int> tokens;
  for (;;) {
    SequenceUpdate u = (*stream)->Wait(std::chrono::seconds(30));
    tokens.insert(tokens.end(), u.tokens.begin(), u.tokens.end());
    if (u.done) {
      EXPECT_TRUE(u.status.ok()) << u.status;
      return tokens;
    }
  }
}

class PrefixCacheModelTest : public ::testing::TestWithParam<bool> {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(testing::TinyModelDir());
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
    executor_ = new TextModelExecutor(*model_);
  }
  static SchedulerOptions Options(int64_t prefix_cache_bytes) {
    SchedulerOptions o;
    o.prefix_cache_bytes = prefix_cache_bytes;
    o.prefill_tokens_per_step = 16;  // later turns prefill in several chunks
    return o;
  }
  static TextModel* model_;
  static TextModelExecutor* executor_;
};
TextModel* PrefixCacheModelTest::model_ = nullptr;
TextModelExecutor* PrefixCacheModelTest::executor_ = nullptr;

TEST_P(PrefixCacheModelTest, EveryTurnOfAConversationGivesTheSameTokensWithTheCacheAsWithout) {
  const bool sampled = GetParam();
  const int64_t hidden = model_->text_config().hidden_size;
  BatchScheduler without(*executor_, Options(0));
  BatchScheduler with(*executor_, Options(64 << 20));

  // Turn 1 opens with an "image": 4 soft rows after two tokens.
  std::vector<int> history = {2, 255};
  SoftTokenRows soft;
  std::mt19937 rng(11);
  std::normal_distribution<float> value(0.0f, 1.0f);
  for (int i = 0; i < 4; ++i) {
    soft.positions.push_back(static_cast<int64_t>(history.size()));
    history.push_back(model_->config().image_token_id);
    for (int64_t d = 0; d < hidden; ++d) soft.rows.push_back(value(rng));
  }
  int64_t reused_before = 0;
  for (int turn = 0; turn < 4; ++turn) {
    const std::vector<int> user = RandomIds(6 + 5 * turn, 100 + turn);
    history.insert(history.end(), user.begin(), user.end());
    SequenceRequest r;
    r.id = "turn-" + std::to_string(turn);
    r.prompt = history;
    r.soft = soft;
    r.max_new_tokens = 9;
    if (sampled) {
      r.sampling.temperature = 1.0f;
      r.sampling.top_p = 0.95f;
      r.sampling.seed = 1234 + turn;
    }
    const std::vector<int> expected = Generate(without, r);
    const std::vector<int> got = Generate(with, r);
    ASSERT_EQ(got, expected) << "turn " << turn;
    ASSERT_EQ(got.size(), 9u);
    // The next turn resends the reply.
    history.insert(history.end(), got.begin(), got.end());
    if (turn == 0) continue;
    // Each later turn reuses the whole of the turn before (its prompt and
    // all of its reply but the last token, which never ran).
    const SchedulerStats stats = with.stats();
    EXPECT_EQ(stats.prefix_cache.hits, turn);
    EXPECT_GT(stats.prefix_cache.reused_tokens - reused_before, 8) << "turn " << turn;
    reused_before = stats.prefix_cache.reused_tokens;
  }
  EXPECT_EQ(without.stats().prefix_cache.hits, 0);
}

// A system prompt shared by other requests, and the same request again
// after a reply that ran past the window: both reuse the earlier prompt's
// entry (every row kept), with the same tokens as without the cache.
TEST_P(PrefixCacheModelTest, ASharedStartAndTheSamePromptAgainReuseTheEarlierPrompt) {
  BatchScheduler without(*executor_, Options(0));
  BatchScheduler with(*executor_, Options(64 << 20));
  const std::vector<int> system = RandomIds(40, 7);
  auto request = [&](uint32_t seed) {
    SequenceRequest r;
    r.prompt = system;
    const std::vector<int> user = RandomIds(30, seed);
    r.prompt.insert(r.prompt.end(), user.begin(), user.end());
    r.max_new_tokens = 12;  // past the tiny model's window of 8
    if (GetParam()) {
      r.sampling.temperature = 1.0f;
      r.sampling.seed = seed;
    }
    return r;
  };
  const std::vector<SequenceRequest> requests = {request(1), request(2), request(1)};
  const std::vector<int64_t> reused = {0, 40, 69};  // nothing; the system prompt; all but the last token
  for (size_t i = 0; i < requests.size(); ++i) {
    const int64_t before = with.stats().prefix_cache.reused_tokens;
    EXPECT_EQ(Generate(with, requests[i]), Generate(without, requests[i])) << "request " << i;
    EXPECT_EQ(with.stats().prefix_cache.reused_tokens - before, reused[i]) << "request " << i;
  }
}

// Underneath: a prompt's logits from a cache copied at P and a forward of
// the rest equal those of the whole prompt in one forward to rounding, with
// the copied rows prefilled or decoded one at a time.
TEST_F(PrefixCacheModelTest, CopiedRowsGiveTheWholePromptsLogitsToRounding) {
  const std::vector<int> first = RandomIds(40, 1), rest = RandomIds(30, 2);
  std::vector<int> prompt = first;
  prompt.insert(prompt.end(), rest.begin(), rest.end());
  auto whole_cache = model_->NewCache(prompt.size());
  auto whole = model_->Forward(*whole_cache, prompt, LogitsFor::kLast);
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (const bool decoded : {false, true}) {
    auto earlier = model_->NewCache(prompt.size());
    const int64_t chunk = decoded ? 1 : static_cast<int64_t>(first.size());
    for (size_t p = 0; p < first.size(); p += chunk) {
      ASSERT_TRUE(model_->Forward(*earlier, absl::MakeConstSpan(first).subspan(p, chunk), LogitsFor::kNone).ok());
    }
    ASSERT_TRUE(earlier->Reusable(first.size()));
    auto copy = earlier->CopyPrefix(first.size(), prompt.size());
    auto continued = model_->Forward(*copy, rest, LogitsFor::kLast);
    ASSERT_TRUE(continued.ok()) << continued.status();
    EXPECT_LE(testing::MaxAbsDiff(continued->logits, whole->logits), 1e-3f) << (decoded ? "decoded" : "prefilled");
  }
}

INSTANTIATE_TEST_SUITE_P(GreedyAndSeeded, PrefixCacheModelTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& p) { return p.param ? "Sampled" : "Greedy"; });

}  // namespace
}  // namespace gemma3n
