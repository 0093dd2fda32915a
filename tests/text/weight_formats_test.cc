// int8 and int4 weights on the tiny model, against the bf16 reference: how far the
// logits move and whether greedy decoding keeps the reference tokens. The
// figures are printed ([int8], [int4]). The tiny random-weight model is chaotic (a
// 0.5% perturbation of one matrix moves its logits by up to 0.6), so these
// are figures, not a precision bound; int8_matmul_test checks the kernels
// exactly. The bounds here only catch a broken path.
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "text_worker/generation/generator.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;

class WeightFormatsTest : public ::testing::TestWithParam<WeightFormat> {};

TEST_P(WeightFormatsTest, StaysCloseToTheReference) {
  const char* tag = WeightFormatName(GetParam());
  TextModel::Options options;
  options.weights = GetParam();
  options.weight_cache_dir = "none";  // the bundled checkpoint stays as checked in
  auto int8 = TextModel::Load(testing::TinyModelDir(), options);
  ASSERT_TRUE(int8.ok()) << int8.status();
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  for (const std::string name : {"text_chat", "text_long"}) {
    const std::vector<int> prompt = ids.Ids(name + ".input_ids");
    auto cache = (*int8)->NewCache(prompt.size());
    auto out = (*int8)->Forward(*cache, prompt, LogitsFor::kAll);
    ASSERT_TRUE(out.ok()) << out.status();
    const float diff = MaxAbsDiff(out->logits, golden.F32(name + ".logits"));
    std::printf("[%s] %s: max|logit diff| vs reference = %.3g\n", tag, name.c_str(), diff);
    EXPECT_GT(diff, 0.0f);   // quantized for real
    EXPECT_LT(diff, 25.0f);  // logits are soft-capped at 30
  }
  GenerateOptions g;
  g.max_new_tokens = 16;
  const std::vector<int> expected = ids.Ids("greedy.generated_ids");
  auto r = Generate(**int8, ids.Ids("greedy.prompt_ids"), nullptr, g);
  ASSERT_TRUE(r.ok());
  size_t agree = 0;
  while (agree < expected.size() && agree < r->tokens.size() && r->tokens[agree] == expected[agree]) ++agree;
  std::printf("[%s] greedy: first %zu of %zu tokens equal the reference\n", tag, agree, expected.size());
}

INSTANTIATE_TEST_SUITE_P(Quantized, WeightFormatsTest, ::testing::Values(WeightFormat::kInt8, WeightFormat::kInt4),
                         [](const auto& info) { return std::string(WeightFormatName(info.param)); });

}  // namespace
}  // namespace gemma3n
