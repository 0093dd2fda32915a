// Sampling: greedy, temperature, top-k, top-p, min-p, repetition penalty,
// reproducible seeds (their ranges: tests/request/generation_params_test.cc).
#include <cmath>
#include <map>
#include <vector>

#include "gtest/gtest.h"
#include "text_worker/generation/sampler.h"

namespace gemma3n {
namespace {

const std::vector<float> kLogits = {1.0f, 3.0f, 2.0f, 0.5f, 2.9f};

std::map<int, int> Histogram(const SamplingParams& p, int draws, std::vector<int> history = {}) {
  Sampler s(p);
  std::map<int, int> h;
  for (int i = 0; i < draws; ++i) ++h[s.Sample(kLogits, history)];
  return h;
}

TEST(SamplerTest, GreedyIsArgmax) {
  Sampler s(SamplingParams{});
  EXPECT_EQ(s.Sample(kLogits, {}), 1);
}

TEST(SamplerTest, RepetitionPenaltyDemotesSeenTokens) {
  SamplingParams p;
  p.repetition_penalty = 1.5f;  // 3.0 -> 2.0, below token 4's 2.9
  Sampler s(p);
  EXPECT_EQ(s.Sample(kLogits, {1, 1}), 4);
  EXPECT_EQ(s.Sample(kLogits, {}), 1);
}

TEST(SamplerTest, TemperatureOneFollowsTheSoftmax) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.seed = 42;
  const int draws = 20000;
  auto h = Histogram(p, draws);
  double z = 0;
  for (float l : kLogits) z += std::exp(l);
  for (int i = 0; i < 5; ++i) {
    const double expected = std::exp(kLogits[i]) / z;
    EXPECT_NEAR(h[i] / static_cast<double>(draws), expected, 0.015) << "token " << i;
  }
}

TEST(SamplerTest, TopKKeepsOnlyTheBestK) {
  SamplingParams p;
  p.temperature = 5.0f;  // flat enough that every token would appear
  p.top_k = 2;
  auto h = Histogram(p, 2000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_GT(h[1], 0);
  EXPECT_GT(h[4], 0);
}

TEST(SamplerTest, TopPCutsTheTail) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.top_p = 0.5f;  // token 1 (p~0.37) + token 4 (p~0.33) reach 0.5
  auto h = Histogram(p, 2000);
  EXPECT_EQ(h.size(), 2u);
  p.top_p = 0.01f;
  EXPECT_EQ(Histogram(p, 200).size(), 1u);
}

TEST(SamplerTest, MinPDropsTokensFarBelowTheBest) {
  SamplingParams p;
  p.temperature = 1.0f;
  p.min_p = 0.5f;  // keeps tokens with p >= 0.5 * p(best): 1, 4 (0.90), 2 (0.37) drops
  auto h = Histogram(p, 2000);
  EXPECT_EQ(h.size(), 2u);
  EXPECT_EQ(h.count(2), 0u);
}

TEST(SamplerTest, SameSeedSameTokensOtherSeedOtherTokens) {
  SamplingParams p;
  p.temperature = 2.0f;
  p.seed = 7;
  Sampler a(p), b(p);
  p.seed = 8;
  Sampler c(p);
  std::vector<int> ta, tb, tc;
  for (int i = 0; i < 64; ++i) {
    ta.push_back(a.Sample(kLogits, {}));
    tb.push_back(b.Sample(kLogits, {}));
    tc.push_back(c.Sample(kLogits, {}));
  }
  EXPECT_EQ(ta, tb);
  EXPECT_NE(ta, tc);
}

}  // namespace
}  // namespace gemma3n
