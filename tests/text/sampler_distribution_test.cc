// The Sampler's token frequencies against the distribution Hugging Face
// generation samples from, for temperatures other than 1 and top-k, top-p,
// min-p and the repetition penalty together. The expected distribution is
// computed here independently, the way transformers' logits processors and
// warpers compute it (RepetitionPenaltyLogitsProcessor, then
// TemperatureLogitsWarper, TopKLogitsWarper, TopPLogitsWarper,
// MinPLogitsWarper, then softmax): top-p from the ascending cumulative sum
// (drop a token when it and everything below it hold at most 1 - p), min-p
// relative to the most likely token. Each case draws kDraws tokens with a
// fixed seed and bounds Pearson's chi-squared statistic by its 99.9% quantile;
// a token the reference removes must never be drawn.
//
// Measured (seeded, deterministic): chi-squared 1.7 to 15.3 on 2 to 11
// degrees of freedom against bounds of 14.1 to 31.4. Mutations of sampler.cc
// that fail it (the case, then the statistic): the temperature ignored
// (every case; 9200 vs 31.4 at T 0.6); top-k one token less (2085 vs 18.7)
// or more (a removed token drawn); top-p one token more (`cut = i + 2`: a
// removed token drawn, 214 vs 14.1) or less (`cut = i`: 4505 vs 14.1); min-p
// against the absolute probability instead of the top one (33379 vs 16.6);
// the repetition penalty multiplying positive logits (52153 vs 22.7). In the
// combined case the last filter that binds (min-p) decides the set, so the
// single-filter cases are there to catch each filter's own off-by-one.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>
#include <ostream>
#include <string>
#include <vector>

#include "common/request/generation_params.h"
#include "gtest/gtest.h"
#include "text_worker/generation/sampler.h"

namespace gemma3n {
namespace {

constexpr int kDraws = 20000;

// 12 logits with distinct gaps, so no filter boundary sits on a near-tie.
const std::vector<float> kLogits = {2.1f, -0.4f, 3.3f, 0.9f, 1.6f, -1.7f, 2.8f, 0.2f, 1.2f, -0.9f, 2.45f, 0.55f};

// transformers' RepetitionPenaltyLogitsProcessor: each seen id once.
std::vector<double> RepetitionPenalized(const std::vector<float>& logits, const std::vector<int>& history,
                                        double penalty) {
  std::vector<double> s(logits.begin(), logits.end());
  std::vector<bool> done(s.size(), false);
  for (int id : history) {
    if (done[id]) continue;
    done[id] = true;
    s[id] = s[id] < 0 ? s[id] * penalty : s[id] / penalty;
  }
  return s;
}

// Softmax over the tokens still `alive`; removed tokens get 0.
std::vector<double> Softmax(const std::vector<double>& scores, const std::vector<bool>& alive) {
  double max_score = -INFINITY;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (alive[i]) max_score = std::max(max_score, scores[i]);
  }
  std::vector<double> p(scores.size(), 0.0);
  double z = 0.0;
  for (size_t i = 0; i < scores.size(); ++i) {
    if (alive[i]) z += p[i] = std::exp(scores[i] - max_score);
  }
  for (double& v : p) v /= z;
  return p;
}

int CountAlive(const std::vector<bool>& alive) { return static_cast<int>(std::count(alive.begin(), alive.end(), true)); }

struct Reference {
  std::vector<double> probs;  // [vocab], 0 for removed tokens
  int after_top_k = 0, after_top_p = 0, after_min_p = 0;  // tokens left after each filter
};

// The distribution transformers samples from for these parameters.
Reference HuggingFaceDistribution(const SamplingParams& params, const std::vector<int>& history) {
  std::vector<double> scores = RepetitionPenalized(kLogits, history, params.repetition_penalty);
  for (double& s : scores) s /= params.temperature;
  const size_t vocab = scores.size();
  std::vector<bool> alive(vocab, true);
  Reference ref;
  // TopK: drop scores below the k-th largest.
  if (params.top_k > 0) {
    std::vector<double> sorted = scores;
    std::sort(sorted.begin(), sorted.end(), std::greater<double>());
    const double kth = sorted[std::min<size_t>(params.top_k, vocab) - 1];
    for (size_t i = 0; i < vocab; ++i) alive[i] = alive[i] && scores[i] >= kth;
  }
  ref.after_top_k = CountAlive(alive);
  // TopP: ascending order, cumulative probability; remove while the
  // cumulative sum is <= 1 - top_p, always keeping the most likely token.
  if (params.top_p < 1.0f) {
    const std::vector<double> p = Softmax(scores, alive);
    std::vector<size_t> ascending(vocab);
    std::iota(ascending.begin(), ascending.end(), 0);
    std::sort(ascending.begin(), ascending.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
    double cumulative = 0.0;
    for (size_t r = 0; r + 1 < vocab; ++r) {
      cumulative += p[ascending[r]];
      if (cumulative <= 1.0 - params.top_p) alive[ascending[r]] = false;
    }
  }
  ref.after_top_p = CountAlive(alive);
  // MinP: drop tokens whose probability is below min_p times the top one.
  if (params.min_p > 0.0f) {
    const std::vector<double> p = Softmax(scores, alive);
    const double top = *std::max_element(p.begin(), p.end());
    for (size_t i = 0; i < vocab; ++i) alive[i] = alive[i] && p[i] >= params.min_p * top;
  }
  ref.after_min_p = CountAlive(alive);
  ref.probs = Softmax(scores, alive);
  return ref;
}

// The 99.9% quantile of chi-squared with `df` degrees of freedom
// (Wilson-Hilferty; within 1% for df >= 2).
double ChiSquared999(int df) {
  const double z = 3.0902;  // the standard normal's 99.9% quantile
  const double a = 2.0 / (9.0 * df);
  return df * std::pow(1.0 - a + z * std::sqrt(a), 3.0);
}

struct Case {
  std::string name;
  SamplingParams params;
  std::vector<int> history;
  // Which filters must actually remove tokens here (so the case tests them).
  bool top_k_cuts = false, top_p_cuts = false, min_p_cuts = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class SamplerDistributionTest : public ::testing::TestWithParam<Case> {};

TEST_P(SamplerDistributionTest, FrequenciesFollowTheHuggingFaceDistribution) {
  const Case& c = GetParam();
  // The case is a value a request can carry: validation keeps it as given.
  auto validated = ValidateGeneration(SettingsOf(c.params), kDefaultMaxNewTokens);
  ASSERT_TRUE(validated.ok()) << validated.status();
  ASSERT_EQ(validated->sampling.temperature, c.params.temperature);
  ASSERT_EQ(validated->sampling.top_p, c.params.top_p);
  ASSERT_EQ(validated->sampling.min_p, c.params.min_p);
  const Reference ref = HuggingFaceDistribution(c.params, c.history);
  const int vocab = static_cast<int>(kLogits.size());
  // The case exercises what it names.
  if (c.top_k_cuts) {
    EXPECT_LT(ref.after_top_k, vocab);
  }
  if (c.top_p_cuts) {
    EXPECT_LT(ref.after_top_p, ref.after_top_k);
  }
  if (c.min_p_cuts) {
    EXPECT_LT(ref.after_min_p, ref.after_top_p);
  }

  Sampler sampler(c.params);
  std::vector<int> counts(vocab, 0);
  for (int i = 0; i < kDraws; ++i) {
    const int token = sampler.Sample(kLogits, c.history);
    ASSERT_GE(token, 0);
    ASSERT_LT(token, vocab);
    ++counts[token];
  }
  double chi2 = 0.0;
  int kept = 0;
  for (int t = 0; t < vocab; ++t) {
    if (ref.probs[t] == 0.0) {
      EXPECT_EQ(counts[t], 0) << "token " << t << " is removed by the reference filters but was drawn";
      continue;
    }
    ++kept;
    const double expected = kDraws * ref.probs[t];
    chi2 += (counts[t] - expected) * (counts[t] - expected) / expected;
  }
  const int df = kept - 1;
  ASSERT_GE(df, 2) << "too few tokens left for a chi-squared test";
  const double bound = ChiSquared999(df);
  std::printf("[%s] %d tokens kept; chi-squared %.1f on %d degrees of freedom (99.9%% bound %.1f)\n", c.name.c_str(),
              kept, chi2, df, bound);
  EXPECT_LT(chi2, bound);
}

SamplingParams Params(float temperature, int top_k, float top_p, float min_p, float repetition_penalty,
                      uint64_t seed) {
  SamplingParams p;
  p.temperature = temperature;
  p.top_k = top_k;
  p.top_p = top_p;
  p.min_p = min_p;
  p.repetition_penalty = repetition_penalty;
  p.seed = seed;
  return p;
}

INSTANTIATE_TEST_SUITE_P(
    Cases, SamplerDistributionTest,
    ::testing::Values(Case{"temperature 0.6 only", Params(0.6f, 0, 1.0f, 0.0f, 1.0f, 11), {}},
                      Case{"temperature 1.7 only", Params(1.7f, 0, 1.0f, 0.0f, 1.0f, 12), {}},
                      Case{"top-k 7, top-p 0.85, min-p 0.35 at temperature 1.4",
                           Params(1.4f, 7, 0.85f, 0.35f, 1.0f, 13),
                           {},
                           true,
                           true,
                           true},
                      Case{"top-k 5 at temperature 1.3", Params(1.3f, 5, 1.0f, 0.0f, 1.0f, 17), {}, true},
                      Case{"top-p 0.7 at temperature 0.8", Params(0.8f, 0, 0.7f, 0.0f, 1.0f, 14), {}, false, true},
                      Case{"min-p 0.2 at temperature 2.5", Params(2.5f, 0, 1.0f, 0.2f, 1.0f, 15), {}, false, false, true},
                      Case{"repetition penalty 1.8 with top-k 9, top-p 0.9 at temperature 1.2",
                           Params(1.2f, 9, 0.9f, 0.0f, 1.8f, 16),
                           {2, 2, 6, 1, 5},
                           true,
                           true}),
    [](const ::testing::TestParamInfo<Case>& info) { return "Case" + std::to_string(info.index); });

}  // namespace
}  // namespace gemma3n
