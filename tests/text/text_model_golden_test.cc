// The text decoder against the reference (Hugging Face Gemma3n, f32, from the
// same bf16 weights): full-sequence logits, hidden states, embeddings, the
// intermediate AltUp streams, and the greedy continuation.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TinyModelDir;

// The golden README: the f32 reference differs from an f64 run by up to
// 1.8e-4 on these logits (|logits| up to ~10); 1e-3 is the suggested bound
// for an f32 implementation. Hidden states are O(1).
constexpr float kLogitsTol = 1e-3f;
constexpr float kHiddenTol = 2e-4f;
constexpr float kEmbedTol = 1e-5f;

class TextGoldenTest : public ::testing::TestWithParam<std::string> {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(TinyModelDir());
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
    golden_ = new GoldenFile("golden/text/golden.safetensors");
    ids_ = new GoldenFile("golden/text/golden_ids.safetensors");
  }
  static TextModel* model_;
  static GoldenFile* golden_;
  static GoldenFile* ids_;
};
TextModel* TextGoldenTest::model_ = nullptr;
GoldenFile* TextGoldenTest::golden_ = nullptr;
GoldenFile* TextGoldenTest::ids_ = nullptr;

TEST_P(TextGoldenTest, FullForwardMatchesReference) {
  const std::string name = GetParam();
  const std::vector<int> ids = ids_->Ids(name + ".input_ids");
  const int h = model_->text_config().hidden_size;

  std::vector<float> embeds(ids.size() * h);
  ASSERT_TRUE(model_->EmbedTokens(ids, embeds.data()).ok());
  const float embed_diff = MaxAbsDiff(embeds, golden_->F32(name + ".inputs_embeds"));
  EXPECT_LE(embed_diff, kEmbedTol);

  auto cache = model_->NewCache(ids.size());
  ForwardOptions options;
  options.logits = LogitsFor::kAll;
  options.want_hidden = true;
  auto out = model_->Forward(*cache, ids, nullptr, options);
  ASSERT_TRUE(out.ok()) << out.status();
  const float hidden_diff = MaxAbsDiff(out->last_hidden, golden_->F32(name + ".last_hidden_state"));
  const float logits_diff = MaxAbsDiff(out->logits, golden_->F32(name + ".logits"));
  std::printf("[golden] %s: max|logits diff| = %.3g, max|hidden diff| = %.3g, max|embeds diff| = %.3g\n",
              name.c_str(), logits_diff, hidden_diff, embed_diff);
  EXPECT_LE(hidden_diff, kHiddenTol);
  EXPECT_LE(logits_diff, kLogitsTol);
}

INSTANTIATE_TEST_SUITE_P(Cases, TextGoldenTest, ::testing::Values("text_chat", "text_long", "text_mm_hard"));

TEST(TextGreedyTest, GreedyContinuationMatchesReferenceExactly) {
  auto model = TextModel::Load(TinyModelDir());
  ASSERT_TRUE(model.ok()) << model.status();
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("greedy.prompt_ids");
  const std::vector<int> expected = ids.Ids("greedy.generated_ids");

  // Through the KV cache: prefill, then one token at a time.
  auto cache = (*model)->NewCache(prompt.size() + expected.size());
  auto step = (*model)->Forward(*cache, prompt, LogitsFor::kLast);
  ASSERT_TRUE(step.ok()) << step.status();
  std::vector<int> got;
  for (size_t i = 0; i < expected.size(); ++i) {
    const auto& l = step->logits;
    const int id = static_cast<int>(std::max_element(l.begin(), l.end()) - l.begin());
    got.push_back(id);
    step = (*model)->Forward(*cache, {id}, LogitsFor::kLast);
    ASSERT_TRUE(step.ok()) << step.status();
  }
  EXPECT_EQ(got, expected);
}

// The stage-by-stage goldens of text_long: the per-layer inputs, the AltUp
// stack fed to layer 0, and the stack after every layer. A mismatch here
// names the first stage that goes wrong.
TEST(TextIntermediatesTest, EveryStageMatchesReference) {
  auto model = TextModel::Load(TinyModelDir());
  ASSERT_TRUE(model.ok()) << model.status();
  GoldenFile ids("golden/text/golden_ids.safetensors");
  GoldenFile inter("golden/text/intermediates.safetensors");
  const std::vector<int> prompt = ids.Ids("text_long.input_ids");
  auto cache = (*model)->NewCache(prompt.size());
  ForwardTrace trace;
  ForwardOptions options;
  options.logits = LogitsFor::kNone;
  options.trace = &trace;
  ASSERT_TRUE((*model)->Forward(*cache, prompt, nullptr, options).ok());

  // Golden layout [1, T, L, P] equals ours [n, L * P].
  EXPECT_LE(MaxAbsDiff(trace.per_layer_inputs, inter.F32("text_long.per_layer_inputs")), 1e-4f);
  // Golden [4, 1, T, H] equals ours [N, n, H].
  EXPECT_LE(MaxAbsDiff(trace.initial_streams, inter.F32("text_long.altup_stack_in")), 1e-4f);
  ASSERT_EQ(trace.streams_after.size(), 8u);
  for (int layer = 0; layer < 8; ++layer) {
    const auto golden = inter.F32("text_long.layer_" + std::to_string(layer) + "_out");
    // Streams grow to O(10-100) through the layers: compare relative to the largest entry.
    float scale = 0.0f;
    for (float v : golden) scale = std::max(scale, std::fabs(v));
    const float diff = MaxAbsDiff(trace.streams_after[layer], golden);
    EXPECT_LE(diff, 2e-5f * std::max(1.0f, scale)) << "layer " << layer << " (max |value| " << scale << ")";
  }
}

}  // namespace
}  // namespace gemma3n
