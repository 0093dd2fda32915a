// The proto side of the generation settings: unset stays unset, and what the
// gateway sends the text worker validates back to the same values.
#include "common/request/generation_proto.h"

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

TEST(GenerationProtoTest, OnlyTheFieldsSetArrive) {
  gemma3n::v1::GenerationConfig c;
  c.set_top_p(0.5f);
  c.set_seed(9);
  const GenerationSettings s = SettingsFromPublic(c);
  EXPECT_FALSE(s.max_new_tokens || s.temperature || s.top_k || s.min_p || s.repetition_penalty);
  ASSERT_TRUE(s.top_p && s.seed);
  EXPECT_EQ(*s.top_p, 0.5);
  EXPECT_EQ(*s.seed, 9u);

  gemma3n::v1::GenerationConfig zero;
  zero.set_top_p(0.0f);  // an explicit zero is kept, and refused
  EXPECT_FALSE(ValidateGeneration(SettingsFromPublic(zero), 10).ok());

  gemma3n::v1::GenerationConfig back;
  SettingsToPublic(s, &back);
  EXPECT_TRUE(back.has_top_p() && back.has_seed());
  EXPECT_FALSE(back.has_max_new_tokens() || back.has_temperature() || back.has_min_p());
}

TEST(GenerationProtoTest, TheInternalRequestCarriesTheValidatedValues) {
  GenerationSettings given;
  given.max_new_tokens = 5;
  given.temperature = 0.7;
  given.top_k = 3;
  given.top_p = 0.9;
  given.min_p = 1.0;
  given.repetition_penalty = 1.2;
  given.seed = 123;
  const auto sent = ValidateGeneration(given, 10);
  ASSERT_TRUE(sent.ok());
  gemma3n::internal::v1::TextGenerateRequest r;
  ParamsToInternal(*sent, &r);
  const auto received = ValidateGeneration(SettingsFromInternal(r), 999);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->max_new_tokens, 5);
  const SamplingParams& a = sent->sampling;
  const SamplingParams& b = received->sampling;
  EXPECT_EQ(a.temperature, b.temperature);
  EXPECT_EQ(a.top_k, b.top_k);
  EXPECT_EQ(a.top_p, b.top_p);
  EXPECT_EQ(a.min_p, b.min_p);
  EXPECT_EQ(a.repetition_penalty, b.repetition_penalty);
  EXPECT_EQ(a.seed, b.seed);

  // Greedy is sent as an explicit 0 and stays greedy with filters on.
  GenerationSettings greedy;
  greedy.top_k = 3;
  greedy.temperature = 0.0;
  gemma3n::internal::v1::TextGenerateRequest g;
  ParamsToInternal(*ValidateGeneration(greedy, 10), &g);
  EXPECT_EQ(ValidateGeneration(SettingsFromInternal(g), 10)->sampling.temperature, 0.0f);
}

}  // namespace
}  // namespace gemma3n
