// MatFormer elastic execution: the full E4B-like tiny checkpoint loaded once,
// each slicing profile chosen at run time, against the reference logits and
// greedy tokens of the sliced models; the published profiles; bad profiles.
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/golden.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/matformer/slicing_profile.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TestDataPath;

const std::string kDir = TestDataPath("matformer-tiny");

nlohmann::json Cases() { return *ReadJsonFile(kDir + "/cases.json"); }

class ElasticTest : public ::testing::TestWithParam<int> {
 protected:
  static void SetUpTestSuite() {
    auto m = TextModel::Load(kDir);
    ASSERT_TRUE(m.ok()) << m.status();
    model_ = std::move(m).value().release();
    auto p = LoadSlicingProfiles(kDir + "/configs.csv");
    ASSERT_TRUE(p.ok()) << p.status();
    profiles_ = new std::vector<SlicingProfile>(*p);
  }
  static TextModel* model_;
  static std::vector<SlicingProfile>* profiles_;
};
TextModel* ElasticTest::model_ = nullptr;
std::vector<SlicingProfile>* ElasticTest::profiles_ = nullptr;

TEST_P(ElasticTest, ProfileMatchesTheSlicedReference) {
  const nlohmann::json c = Cases()["profiles"][GetParam()];
  const std::string key = c["profile"];
  auto profile = FindProfile(*profiles_, c["name"]);
  ASSERT_TRUE(profile.ok()) << profile.status();
  auto plan = model_->Plan(*profile);
  ASSERT_TRUE(plan.ok()) << plan.status();

  const nlohmann::json expected = c["sliced_text_config"];
  EXPECT_EQ(plan->sliced_config.num_hidden_layers, expected["num_hidden_layers"].get<int>());
  EXPECT_EQ(plan->sliced_config.intermediate_size, expected["intermediate_size"].get<std::vector<int>>());
  EXPECT_EQ(plan->sliced_config.num_kv_shared_layers, expected["num_kv_shared_layers"].get<int>());
  EXPECT_EQ(plan->sliced_config.activation_sparsity_pattern,
            expected["activation_sparsity_pattern"].get<std::vector<float>>());
  EXPECT_EQ(plan->effective_params, c["effective_params"].get<int64_t>());

  GoldenFile golden("matformer-tiny/golden.safetensors");
  GoldenFile ids("matformer-tiny/golden_ids.safetensors");
  ForwardOptions options;
  options.logits = LogitsFor::kAll;
  options.plan = &*plan;
  for (const std::string seq : {"seq_chat", "seq_long"}) {
    const std::vector<int> prompt = ids.Ids(seq + ".input_ids");
    auto cache = model_->NewCache(prompt.size(), &*plan);
    auto out = model_->Forward(*cache, prompt, nullptr, options);
    ASSERT_TRUE(out.ok()) << out.status();
    const float diff = MaxAbsDiff(out->logits, golden.F32(key + "." + seq + ".logits"));
    std::printf("[golden] matformer %s %s: max|logits diff| = %.3g\n", key.c_str(), seq.c_str(), diff);
    EXPECT_LE(diff, 1e-3f) << key << " " << seq;
  }

  // Greedy through the KV cache of the plan.
  const std::vector<int> prompt = ids.Ids("seq_chat.input_ids");
  const std::vector<int> expected_ids = ids.Ids(key + ".greedy.generated_ids");
  auto cache = model_->NewCache(prompt.size() + expected_ids.size(), &*plan);
  options.logits = LogitsFor::kLast;
  auto step = model_->Forward(*cache, prompt, nullptr, options);
  std::vector<int> got;
  for (size_t i = 0; i < expected_ids.size() && step.ok(); ++i) {
    const int id = static_cast<int>(std::max_element(step->logits.begin(), step->logits.end()) - step->logits.begin());
    got.push_back(id);
    step = model_->Forward(*cache, {id}, nullptr, options);
  }
  ASSERT_TRUE(step.ok()) << step.status();
  EXPECT_EQ(got, expected_ids) << key;
}

INSTANTIATE_TEST_SUITE_P(Profiles, ElasticTest, ::testing::Range(0, 4));

TEST_F(ElasticTest, ConcurrentSequencesMayUseDifferentProfiles) {
  auto small = model_->Plan(*FindProfile(*profiles_, "Config for mixed widths + skipped blocks (block-level)"));
  ASSERT_TRUE(small.ok());
  GoldenFile golden("matformer-tiny/golden.safetensors");
  GoldenFile ids("matformer-tiny/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("seq_long.input_ids");
  auto full_cache = model_->NewCache(prompt.size());
  auto small_cache = model_->NewCache(prompt.size(), &*small);
  ForwardOptions full_opts, small_opts;
  full_opts.logits = small_opts.logits = LogitsFor::kLast;
  small_opts.plan = &*small;
  std::vector<float> full_logits, small_logits;
  for (int id : prompt) {  // interleaved token by token
    auto a = model_->Forward(*full_cache, {id}, nullptr, full_opts);
    auto b = model_->Forward(*small_cache, {id}, nullptr, small_opts);
    ASSERT_TRUE(a.ok() && b.ok());
    full_logits.insert(full_logits.end(), a->logits.begin(), a->logits.end());
    small_logits.insert(small_logits.end(), b->logits.begin(), b->logits.end());
  }
  EXPECT_LE(MaxAbsDiff(full_logits, golden.F32("main.seq_long.logits")), 1e-3f);
  EXPECT_LE(MaxAbsDiff(small_logits, golden.F32("mixed_skip.seq_long.logits")), 1e-3f);
  // A cache belongs to its profile.
  auto wrong = model_->Forward(*small_cache, {2}, nullptr, full_opts);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
}

TEST(SlicingProfileTest, PublishedProfilesAreBuiltIn) {
  const auto& all = PublishedProfiles();
  ASSERT_EQ(all.size(), 16u);
  for (const std::string alias : {"E4B", "E2B", "E1.96B-layer", "E2.54B-layer", "E3.18B-layer", "E2.98B-block",
                                  "E3.79B-block", "E2.49B-block"}) {
    EXPECT_TRUE(FindProfile(all, alias).ok()) << alias;
  }
  const auto e2b = *FindProfile(all, "E2B");
  EXPECT_EQ(e2b.name, "Config for official E2B Model");
  EXPECT_EQ(e2b.skipped, (std::vector<int>{20, 21, 22, 23, 24}));
  EXPECT_EQ(e2b.ffn_widths, std::vector<int>(30, 8192));
  EXPECT_EQ(FindProfile(all, "Config for E2.54B (layer-level)")->alias, "E2.54B-layer");
  auto missing = FindProfile(all, "E9B");
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("E2.54B-layer"), std::string::npos);
}

TEST(SlicingProfileTest, EveryPublishedProfileAppliesToTheRealE4B) {
  auto json = ReadJsonFile(TestDataPath("real-configs/gemma-3n-E4B.config.json"));
  auto e4b = ParseModelConfig(*json);
  ASSERT_TRUE(e4b.ok());
  for (const SlicingProfile& p : PublishedProfiles()) {
    auto plan = PlanProfile(e4b->text, p);
    ASSERT_TRUE(plan.ok()) << plan.status();
    std::printf("[profile] %-14s %2d layers, %.2fB effective parameters (published %.2fB)\n", p.alias.c_str(),
                plan->sliced_config.num_hidden_layers, plan->effective_params / 1e9, p.effective_params_b);
  }
  auto e2b = PlanProfile(e4b->text, *FindProfile(PublishedProfiles(), "E2B"));
  EXPECT_EQ(e2b->sliced_config.num_kv_shared_layers, 10);  // as the real E2B config
  EXPECT_EQ(e2b->sliced_config.num_hidden_layers, 30);
}

TEST(SlicingProfileTest, ProfilesThatCannotApplySayWhy) {
  auto json = ReadJsonFile(kDir + "/config.json");
  auto config = ParseModelConfig(*json);
  ASSERT_TRUE(config.ok());
  SlicingProfile p;
  p.name = "test";
  p.ffn_widths = std::vector<int>(20, 512);
  EXPECT_NE(PlanProfile(config->text, p).status().message().find("only 256"), std::string::npos);
  p.ffn_widths = std::vector<int>(19, 128);
  EXPECT_NE(PlanProfile(config->text, p).status().message().find("19 FFN widths for 20"), std::string::npos);
  p.skipped = {8};  // a KV source
  EXPECT_NE(PlanProfile(config->text, p).status().message().find("reads its K/V"), std::string::npos);
  p.skipped = {25};
  EXPECT_NE(PlanProfile(config->text, p).status().message().find("does not exist"), std::string::npos);
}

TEST(SlicingProfileTest, CsvFormatErrors) {
  const std::string header = "name,# Layers,# Effective Params (B),MMLU PT accuracy,FFN Hidden Dims,Layers Skipped\n";
  EXPECT_FALSE(ParseSlicingProfiles("a,b\n", "x.csv").ok());
  auto bad_list = ParseSlicingProfiles(header + "p,2,,,\"[1, two]\",\n", "x.csv");
  EXPECT_NE(bad_list.status().message().find("x.csv row 2"), std::string::npos) << bad_list.status();
  EXPECT_FALSE(ParseSlicingProfiles(header + "p,3,,,\"[1, 2]\",\n", "x.csv").ok());
  EXPECT_FALSE(ParseSlicingProfiles(header + "p,2,,,\"[1, 2]\n", "x.csv").ok());  // unclosed quote
  auto ok = ParseSlicingProfiles(header + "p,2,1.5,,\"[2_048 * 2, 3]\",\"[4]\"\n", "x.csv");
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_EQ((*ok)[0].ffn_widths, (std::vector<int>{4096, 3}));
  EXPECT_EQ((*ok)[0].skipped, (std::vector<int>{4}));
  EXPECT_EQ(LoadSlicingProfiles("/nonexistent.csv").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace gemma3n
