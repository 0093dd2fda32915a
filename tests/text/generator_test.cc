// The generation loop: greedy output equals the reference continuation,
// stop ids end generation, limits and cancellation hold, and a prompt longer
// than the prefill chunk gives the same tokens.
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/generation/generator.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::TinyModelDir;

class GeneratorTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(TinyModelDir());
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
    GoldenFile ids("golden/text/golden_ids.safetensors");
    prompt_ = new std::vector<int>(ids.Ids("greedy.prompt_ids"));
    expected_ = new std::vector<int>(ids.Ids("greedy.generated_ids"));
  }
  static TextModel* model_;
  static std::vector<int>* prompt_;
  static std::vector<int>* expected_;
};
TextModel* GeneratorTest::model_ = nullptr;
std::vector<int>* GeneratorTest::prompt_ = nullptr;
std::vector<int>* GeneratorTest::expected_ = nullptr;

TEST_F(GeneratorTest, GreedyMatchesTheReferenceForEveryPrefillChunk) {
  for (int chunk : {512, 7, 1}) {
    GenerateOptions o;
    o.max_new_tokens = 16;
    o.prefill_chunk = chunk;
    auto r = Generate(*model_, *prompt_, nullptr, o);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->tokens, *expected_) << "prefill chunk " << chunk;
    EXPECT_EQ(r->finish, FinishReason::kMaxTokens);
    EXPECT_EQ(r->prompt_tokens, static_cast<int>(prompt_->size()));
  }
}

TEST_F(GeneratorTest, StopsAtAStopIdWithoutReturningIt) {
  GenerateOptions o;
  o.max_new_tokens = 16;
  o.stop_ids = {(*expected_)[5]};  // 397 first appears at index 2
  auto r = Generate(*model_, *prompt_, nullptr, o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kStopToken);
  EXPECT_EQ(r->tokens, std::vector<int>(expected_->begin(), expected_->begin() + 2));
}

TEST_F(GeneratorTest, StreamsEachTokenAndCanBeCancelled) {
  GenerateOptions o;
  o.max_new_tokens = 16;
  std::vector<int> streamed;
  auto r = Generate(*model_, *prompt_, nullptr, o, [&](int id) {
    streamed.push_back(id);
    return streamed.size() < 4;
  });
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->finish, FinishReason::kCancelled);
  EXPECT_EQ(streamed, r->tokens);
  EXPECT_EQ(r->tokens, std::vector<int>(expected_->begin(), expected_->begin() + 4));
}

TEST_F(GeneratorTest, SeededSamplingIsReproducible) {
  GenerateOptions o;
  o.max_new_tokens = 12;
  o.sampling.temperature = 1.0f;
  o.sampling.top_p = 0.9f;
  o.sampling.seed = 1234;
  auto a = Generate(*model_, *prompt_, nullptr, o);
  auto b = Generate(*model_, *prompt_, nullptr, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->tokens, b->tokens);
  EXPECT_NE(a->tokens, *expected_);  // sampling at T=1 leaves the greedy path
}

TEST_F(GeneratorTest, BadRequestsAreErrors) {
  GenerateOptions o;
  EXPECT_EQ(Generate(*model_, {}, nullptr, o).status().code(), absl::StatusCode::kInvalidArgument);
  std::vector<int> bad = *prompt_;
  bad.push_back(99999);
  EXPECT_EQ(Generate(*model_, bad, nullptr, o).status().code(), absl::StatusCode::kInvalidArgument);
  o.max_new_tokens = 0;
  auto none = Generate(*model_, *prompt_, nullptr, o);
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->tokens.empty());
}

}  // namespace
}  // namespace gemma3n
