#include "common/cli/progress_meter.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;

TEST(ProgressMeterTest, CountsShowDoneTotalRateAndEta) {
  ProgressMeter meter("batch", 1000, ProgressUnit::kCount);
  meter.set_terminal(false);
  const auto later = ProgressMeter::Clock::now() + std::chrono::seconds(10);
  const std::string line = meter.Line(250, "3 failed", later);
  EXPECT_THAT(line, HasSubstr("25%"));
  EXPECT_THAT(line, HasSubstr("250/1000 done"));
  EXPECT_THAT(line, HasSubstr("25.0/s"));
  EXPECT_THAT(line, HasSubstr("ETA 30s"));
  EXPECT_THAT(line, HasSubstr("3 failed"));
  EXPECT_THAT(line, ::testing::Not(HasSubstr("#")));
}

TEST(ProgressMeterTest, BytesAreHumanAndATerminalGetsABar) {
  ProgressMeter meter("model-00001.safetensors", 4ll << 30, ProgressUnit::kBytes);
  meter.set_terminal(true);
  const auto later = ProgressMeter::Clock::now() + std::chrono::seconds(2);
  const std::string line = meter.Line(1ll << 30, "", later);
  EXPECT_THAT(line, HasSubstr("[######                  ]"));
  EXPECT_THAT(line, HasSubstr("1.0 GB / 4.0 GB"));
  EXPECT_THAT(line, HasSubstr("512.0 MB/s"));
  EXPECT_THAT(line, HasSubstr("ETA 6s"));
}

TEST(ProgressMeterTest, HumanBytes) {
  EXPECT_EQ(HumanBytes(512), "512 B");
  EXPECT_EQ(HumanBytes(1536), "1.5 KB");
  EXPECT_EQ(HumanBytes(3.5 * (1ll << 30)), "3.5 GB");
}

}  // namespace
}  // namespace gemma3n
