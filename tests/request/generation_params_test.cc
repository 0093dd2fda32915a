// Every boundary of the generation settings, once: the gateway, the text
// worker and the command-line tools all go through ValidateGeneration, so
// these cases hold for each of them.
#include "common/request/generation_params.h"

#include <cmath>
#include <initializer_list>
#include <limits>
#include <optional>
#include <string>

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr int kDefault = 77;

absl::StatusOr<GenerationParams> Validate(const GenerationSettings& s) { return ValidateGeneration(s, kDefault); }

// The error is INVALID_ARGUMENT and names the field.
void ExpectRefused(const GenerationSettings& s, const std::string& field) {
  const absl::StatusOr<GenerationParams> p = Validate(s);
  ASSERT_FALSE(p.ok()) << field << " accepted";
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(p.status().message().find(field), std::string::npos) << p.status().message();
}

TEST(GenerationParamsTest, NothingGivenIsGreedyWithTheDefaultLength) {
  const auto p = Validate({});
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ(p->max_new_tokens, kDefault);
  EXPECT_EQ(p->sampling.temperature, 0.0f);
  EXPECT_EQ(p->sampling.top_k, 0);
  EXPECT_EQ(p->sampling.top_p, 1.0f);
  EXPECT_EQ(p->sampling.min_p, 0.0f);
  EXPECT_EQ(p->sampling.repetition_penalty, 1.0f);
  EXPECT_EQ(p->sampling.seed, 0u);
}

TEST(GenerationParamsTest, MaxNewTokens) {
  for (int64_t bad : {int64_t{0}, int64_t{-1}, int64_t{1} << 31, std::numeric_limits<int64_t>::max()}) {
    GenerationSettings s;
    s.max_new_tokens = bad;
    ExpectRefused(s, "max_new_tokens");
  }
  for (int64_t good : {int64_t{1}, int64_t{(int64_t{1} << 31) - 1}}) {
    GenerationSettings s;
    s.max_new_tokens = good;
    const auto p = Validate(s);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->max_new_tokens, good);
  }
  // An operator default that is out of range is reported too.
  EXPECT_FALSE(ValidateGeneration({}, 0).ok());
}

TEST(GenerationParamsTest, Temperature) {
  for (double bad : {-1.0, -1e-30, kNaN, kInf, -kInf, 1e39 /* beyond float */}) {
    GenerationSettings s;
    s.temperature = bad;
    ExpectRefused(s, "temperature");
  }
  struct Case {
    double given;
    float used;
  };
  for (Case c : {Case{0.0, 0.0f}, Case{1e-6, 0.0f} /* greedy: logits / 1e-6 would overflow */, Case{1e-5, 1e-5f},
                 Case{1.0, 1.0f}, Case{0.7, 0.7f}, Case{1e30, 1e30f}}) {
    GenerationSettings s;
    s.temperature = c.given;
    const auto p = Validate(s);
    ASSERT_TRUE(p.ok()) << c.given << ": " << p.status();
    EXPECT_EQ(p->sampling.temperature, c.used) << c.given;
  }
}

TEST(GenerationParamsTest, TopK) {
  for (int64_t bad : {int64_t{-1}, int64_t{1} << 31}) {
    GenerationSettings s;
    s.top_k = bad;
    ExpectRefused(s, "top_k");
  }
  for (int64_t good : {int64_t{0}, int64_t{1}, int64_t{(int64_t{1} << 31) - 1}}) {
    GenerationSettings s;
    s.top_k = good;
    const auto p = Validate(s);
    ASSERT_TRUE(p.ok()) << p.status();
    EXPECT_EQ(p->sampling.top_k, good);
  }
}

// A float field: each bad value refused naming the field, each good one kept.
void CheckFloatField(const std::string& field, std::optional<double> GenerationSettings::*given,
                     float SamplingParams::*used, std::initializer_list<double> bad,
                     std::initializer_list<double> good) {
  for (double v : bad) {
    GenerationSettings s;
    s.*given = v;
    ExpectRefused(s, field);
  }
  for (double v : good) {
    GenerationSettings s;
    s.*given = v;
    const auto p = Validate(s);
    ASSERT_TRUE(p.ok()) << field << " " << v << ": " << p.status();
    EXPECT_EQ(p->sampling.*used, static_cast<float>(v)) << field;
  }
}

TEST(GenerationParamsTest, TopP) {
  // 0 given is an error: "unset" is the way to say "no top-p filter".
  CheckFloatField("top_p", &GenerationSettings::top_p, &SamplingParams::top_p,
                  {0.0, -0.1, 1.0000001, 2.0, kNaN, kInf}, {1e-9, 0.5, 1.0});
}

TEST(GenerationParamsTest, MinP) {
  // 1 keeps the top token(s) only.
  CheckFloatField("min_p", &GenerationSettings::min_p, &SamplingParams::min_p,
                  {-1e-9, 1.0000001, kNaN, -kInf, kInf}, {0.0, 0.05, 1.0});
}

TEST(GenerationParamsTest, RepetitionPenalty) {
  CheckFloatField("repetition_penalty", &GenerationSettings::repetition_penalty,
                  &SamplingParams::repetition_penalty, {0.0, -1.0, kNaN, kInf, 1e39}, {1e-3, 1.0, 1.3, 1e30});
}

TEST(GenerationParamsTest, SeedIsKeptWhole) {
  GenerationSettings s;
  s.seed = std::numeric_limits<uint64_t>::max();
  const auto p = Validate(s);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->sampling.seed, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(p->sampling.temperature, 0.0f) << "a seed alone does not switch sampling on";
}

TEST(GenerationParamsTest, AFilterWithoutATemperatureSamplesAtOne) {
  GenerationSettings top_k, top_p, min_p, off;
  top_k.top_k = 40;
  top_p.top_p = 0.9;
  min_p.min_p = 0.1;
  off.top_k = 0;  // filters given but off
  off.top_p = 1.0;
  off.min_p = 0.0;
  for (const GenerationSettings& s : {top_k, top_p, min_p}) {
    const auto p = Validate(s);
    ASSERT_TRUE(p.ok());
    EXPECT_EQ(p->sampling.temperature, 1.0f);
  }
  EXPECT_EQ(Validate(off)->sampling.temperature, 0.0f);
  GenerationSettings greedy_filtered = top_k;
  greedy_filtered.temperature = 0.0;  // an explicit 0 wins
  EXPECT_EQ(Validate(greedy_filtered)->sampling.temperature, 0.0f);
}

TEST(GenerationParamsTest, PromptLength) {
  EXPECT_EQ(CheckPromptLength(0, 10).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(CheckPromptLength(9, 10).ok());
  const absl::Status full = CheckPromptLength(12, 10);
  EXPECT_EQ(full.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(full.message().find("12 tokens"), std::string::npos) << full.message();
  EXPECT_NE(full.message().find("shorten it by 3 tokens"), std::string::npos) << full.message();
}

TEST(GenerationParamsTest, TokenIds) {
  EXPECT_TRUE(CheckTokenIds({0, 5, 9}, 10).ok());
  EXPECT_TRUE(CheckTokenIds({}, 10).ok());
  const absl::Status bad = CheckTokenIds({0, 10}, 10);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("token id 10 at position 1"), std::string::npos) << bad.message();
  EXPECT_FALSE(CheckTokenIds({-1}, 10).ok());
}

}  // namespace
}  // namespace gemma3n
