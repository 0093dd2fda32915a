// The MatFormer sizes a text worker offers: published profiles that apply to
// the checkpoint's config, user profiles first, one plan per profile reached
// by name or alias, and errors that say why a profile is not offered.
#include "text_worker/serving/plan_registry.h"

#include "common/checkpoint/checkpoint.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;
using testing::TestDataPath;

TextConfig ConfigOf(const std::string& relative) {
  auto json = ReadJsonFile(TestDataPath(relative));
  EXPECT_TRUE(json.ok()) << json.status();
  auto config = ParseModelConfig(*json);
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? config->text : TextConfig{};
}

TEST(PlanRegistryTest, OffersEveryPublishedProfileOfE4BByNameAndAlias) {
  const PlanRegistry plans(ConfigOf("real-configs/gemma-3n-E4B.config.json"), {});
  EXPECT_EQ(plans.names().size(), PublishedProfiles().size());
  auto full = plans.Find("");
  ASSERT_TRUE(full.ok());
  EXPECT_EQ(*full, nullptr);  // the full model
  auto by_alias = plans.Find("E2B");
  auto by_name = plans.Find("Config for official E2B Model");
  ASSERT_TRUE(by_alias.ok() && by_name.ok());
  EXPECT_EQ(*by_alias, *by_name);  // one plan object for both
  EXPECT_EQ((*by_alias)->sliced_config.num_hidden_layers, 30);
  EXPECT_EQ(plans.Find("E9B").status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(PlanRegistryTest, AProfileThatDoesNotApplySaysWhatIsOffered) {
  const TextConfig tiny = ConfigOf("matformer-tiny/config.json");
  auto csv = LoadSlicingProfiles(TestDataPath("matformer-tiny/configs.csv"));
  ASSERT_TRUE(csv.ok()) << csv.status();
  const PlanRegistry plans(tiny, *csv);
  EXPECT_EQ(plans.names().size(), csv->size());  // no published (E4B) profile fits the tiny model
  auto e2b = plans.Find("E2B");
  EXPECT_EQ(e2b.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(e2b.status().message(), HasSubstr("does not apply to the loaded model"));
  EXPECT_THAT(e2b.status().message(), HasSubstr(plans.names().front()));
  auto own = plans.Find(plans.names().back());
  ASSERT_TRUE(own.ok()) << own.status();
  EXPECT_NE(*own, nullptr);
}

TEST(PlanRegistryTest, AUserProfileWinsOverAPublishedOneOfTheSameName) {
  SlicingProfile mine = *FindProfile(PublishedProfiles(), "E4B");  // all 35 layers
  mine.name = "Config for official E2B Model";
  mine.alias = "E2B";
  const PlanRegistry plans(ConfigOf("real-configs/gemma-3n-E4B.config.json"), {mine});
  auto e2b = plans.Find("E2B");
  ASSERT_TRUE(e2b.ok()) << e2b.status();
  EXPECT_EQ((*e2b)->sliced_config.num_hidden_layers, 35);
  EXPECT_EQ(plans.names().size(), PublishedProfiles().size());  // the published E2B is not offered twice
}

}  // namespace
}  // namespace gemma3n
