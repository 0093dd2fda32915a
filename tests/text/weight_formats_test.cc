// int8 and int4 weights on the tiny model, end to end against the bf16
// reference (the golden logits and greedy continuation): how far the logits
// move, how often the most likely token stays the reference's, and how many
// greedy tokens agree. The figures are printed ([int8], [int4]).
//
// The tiny random-weight model is chaotic (a 0.5% perturbation of one matrix
// moves its logits by up to 0.6), so the bounds are the measured figures with
// margin, not a precision claim; quantized_matmul_test checks the kernels exactly.
// They are tight enough that a broken format fails them. Measured on the
// golden prompts text_chat / text_long (AVX-512 with VNNI; AVX2 kernels, i.e.
// GEMMA3N_ISA=avx2, in brackets):
//   int8: max|diff| 2.61 / 5.26 [1.09 / 4.94], mean |diff| 0.152 / 0.167
//         [0.117 / 0.152], top-1 agreement 0.92 / 0.88 [0.88 / 0.88], greedy
//         9 of 16 tokens [6];
//   int4: max 13.3 / 13.3 [13.4 / 13.4], mean 1.47 / 1.38 [1.46 / 1.39], top-1
//         0.20 / 0.22 [0.16 / 0.22], greedy 0 (int4 on this model diverges at
//         the first token, so its greedy run is printed, not bounded).
// Mutations of common/kernels/quantize.cc that fail the bounds:
//   - every weight scale x1.1 (QuantizeBlocks: `1.1f * QuantizeBlock(...)`):
//     int8 max 7.68 / 10.1, mean 0.51 / 0.54, top-1 0.84 / 0.68, greedy 0;
//   - int4's nibbles swapped (weight i + 16 in the low nibble): int4 max
//     15.8 / 14.7, mean 2.73 / 2.74, top-1 0.00 / 0.02;
//   - int4 scales x1.3: int4 max 15.4, mean 1.83 / 1.84.
// int4's own quantization noise hides a 10% scale error in int4 alone (mean
// 1.55 vs 1.47); quantized_matmul_test's half-a-step bound catches that one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/generation/generator.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;

// What a correct quantization of the tiny model stays within (per format).
struct Bounds {
  WeightFormat format;
  float max_logit_diff;     // max |logit - reference| over every position of a golden prompt
  float mean_logit_diff;    // mean |logit - reference| over the same
  float min_top1_agreement; // share of positions whose argmax is the reference's
  size_t min_greedy_agree;  // leading greedy tokens equal to the reference's (of 16); 0: not bounded
};

void PrintTo(const Bounds& b, std::ostream* os) { *os << WeightFormatName(b.format); }

float MeanAbsDiff(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0.0;
  for (size_t i = 0; i < a.size(); ++i) sum += std::fabs(a[i] - b[i]);
  return static_cast<float>(sum / a.size());
}

// Share of the rows of [positions, vocab] logits whose argmax equals the reference's.
float Top1Agreement(const std::vector<float>& logits, const std::vector<float>& reference, size_t vocab) {
  const size_t positions = logits.size() / vocab;
  size_t agree = 0;
  for (size_t p = 0; p < positions; ++p) {
    const auto row = logits.begin() + p * vocab, ref = reference.begin() + p * vocab;
    agree += std::max_element(row, row + vocab) - row == std::max_element(ref, ref + vocab) - ref;
  }
  return static_cast<float>(agree) / positions;
}

class WeightFormatsTest : public ::testing::TestWithParam<Bounds> {};

TEST_P(WeightFormatsTest, StaysWithinTheMeasuredBoundsOfTheReference) {
  const Bounds& bounds = GetParam();
  const char* tag = WeightFormatName(bounds.format);
  TextModel::Options options;
  options.weights = bounds.format;
  options.weight_cache_dir = "none";  // the bundled checkpoint stays as checked in
  auto model = TextModel::Load(testing::TinyModelDir(), options);
  ASSERT_TRUE(model.ok()) << model.status();
  const size_t vocab = (*model)->text_config().vocab_size;
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  for (const std::string name : {"text_chat", "text_long"}) {
    const std::vector<int> prompt = ids.Ids(name + ".input_ids");
    auto cache = (*model)->NewCache(prompt.size());
    auto out = (*model)->Forward(*cache, prompt, LogitsFor::kAll);
    ASSERT_TRUE(out.ok()) << out.status();
    const std::vector<float> reference = golden.F32(name + ".logits");
    ASSERT_EQ(out->logits.size(), reference.size());
    const float max_diff = MaxAbsDiff(out->logits, reference);
    const float mean_diff = MeanAbsDiff(out->logits, reference);
    const float top1 = Top1Agreement(out->logits, reference, vocab);
    std::printf("[%s] %s (%zu positions): max|logit diff| %.3f, mean %.4f, top-1 agreement %.3f\n", tag,
                name.c_str(), prompt.size(), max_diff, mean_diff, top1);
    EXPECT_GT(max_diff, 0.0f) << name << ": not quantized at all";
    EXPECT_LE(max_diff, bounds.max_logit_diff) << name;
    EXPECT_LE(mean_diff, bounds.mean_logit_diff) << name;
    EXPECT_GE(top1, bounds.min_top1_agreement) << name;
  }
  GenerateOptions g;
  g.max_new_tokens = 16;
  const std::vector<int> expected = ids.Ids("greedy.generated_ids");
  auto r = Generate(**model, ids.Ids("greedy.prompt_ids"), nullptr, g);
  ASSERT_TRUE(r.ok()) << r.status();
  size_t agree = 0;
  while (agree < expected.size() && agree < r->tokens.size() && r->tokens[agree] == expected[agree]) ++agree;
  std::printf("[%s] greedy: first %zu of %zu tokens equal the reference\n", tag, agree, expected.size());
  if (bounds.min_greedy_agree > 0) {
    EXPECT_GE(agree, bounds.min_greedy_agree);
  }
}

INSTANTIATE_TEST_SUITE_P(Quantized, WeightFormatsTest,
                         ::testing::Values(Bounds{WeightFormat::kInt8, 7.0f, 0.30f, 0.80f, 4},
                                           Bounds{WeightFormat::kInt4, 15.0f, 1.70f, 0.10f, 0}),
                         [](const auto& info) { return std::string(WeightFormatName(info.param.format)); });

}  // namespace
}  // namespace gemma3n
