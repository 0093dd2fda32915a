// gemma3n's checkpoint slicer against the MatFormer Lab: every tensor's
// sha256, the edited config, and the sliced checkpoint loaded on its own.
#include <openssl/evp.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_format.h"
#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/golden.h"
#include "text_worker/matformer/checkpoint_slicer.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TestDataPath;

const std::string kDir = TestDataPath("matformer-tiny");

std::string Sha256Hex(const uint8_t* data, size_t n) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data, n, digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) hex += absl::StrFormat("%02x", digest[i]);
  return hex;
}

class SliceTest : public ::testing::TestWithParam<int> {};

TEST_P(SliceTest, TensorsConfigAndLogitsMatchTheLab) {
  const nlohmann::json cases = *ReadJsonFile(kDir + "/cases.json");
  const nlohmann::json hashes = *ReadJsonFile(kDir + "/sliced_tensors_sha256.json");
  const nlohmann::json c = cases["profiles"][GetParam()];
  const std::string key = c["profile"];
  auto profiles = LoadSlicingProfiles(kDir + "/configs.csv");
  ASSERT_TRUE(profiles.ok());
  auto profile = FindProfile(*profiles, c["name"]);
  ASSERT_TRUE(profile.ok());

  const fs::path out = fs::path(::testing::TempDir()) / ("sliced_" + key);
  fs::remove_all(out);
  ASSERT_TRUE(WriteSlicedCheckpoint(kDir, *profile, out.string()).ok());
  EXPECT_EQ(WriteSlicedCheckpoint(kDir, *profile, out.string()).code(), absl::StatusCode::kAlreadyExists);

  auto sliced = Checkpoint::Open(out.string());
  ASSERT_TRUE(sliced.ok()) << sliced.status();
  const nlohmann::json expected = hashes["profiles"][key];
  EXPECT_EQ((*sliced)->TensorNames().size(), expected["num_tensors"].get<size_t>());
  int checked = 0;
  for (const auto& [name, want] : expected["tensors"].items()) {
    auto t = (*sliced)->Get(name);
    ASSERT_TRUE(t.ok()) << t.status();
    EXPECT_EQ(std::string(DTypeName(t->dtype)), want["dtype"].get<std::string>()) << name;
    EXPECT_EQ(t->shape, want["shape"].get<std::vector<int64_t>>()) << name;
    EXPECT_EQ(Sha256Hex(t->data, t->nbytes), want["sha256"].get<std::string>()) << name;
    ++checked;
  }
  EXPECT_EQ(checked, expected["num_tensors"].get<int>());

  const nlohmann::json text = (*sliced)->config()["text_config"];
  for (const auto& [field, value] : expected["text_config"].items()) {
    if (field == "activation_sparsity_pattern") {
      EXPECT_EQ(text[field].get<std::vector<float>>(), value.get<std::vector<float>>());
    } else {
      EXPECT_EQ(text[field], value) << field;
    }
  }

  // The sliced checkpoint on its own gives the profile's reference logits.
  auto model = TextModel::Load(out.string());
  ASSERT_TRUE(model.ok()) << model.status();
  GoldenFile golden("matformer-tiny/golden.safetensors");
  GoldenFile ids("matformer-tiny/golden_ids.safetensors");
  const std::vector<int> prompt = ids.Ids("seq_long.input_ids");
  auto cache = (*model)->NewCache(prompt.size());
  auto logits = (*model)->Forward(*cache, prompt, LogitsFor::kAll);
  ASSERT_TRUE(logits.ok());
  EXPECT_LE(MaxAbsDiff(logits->logits, golden.F32(key + ".seq_long.logits")), 1e-3f);
}

INSTANTIATE_TEST_SUITE_P(Profiles, SliceTest, ::testing::Range(0, 4));

TEST(SliceErrorsTest, ShardsAreSplitAndBadProfilesRefused) {
  auto profiles = LoadSlicingProfiles(kDir + "/configs.csv");
  ASSERT_TRUE(profiles.ok());
  const fs::path out = fs::path(::testing::TempDir()) / "sliced_shards";
  fs::remove_all(out);
  SliceOptions small;
  small.max_shard_bytes = 1'000'000;
  ASSERT_TRUE(WriteSlicedCheckpoint(kDir, (*profiles)[0], out.string(), small).ok());
  auto reopened = Checkpoint::Open(out.string());
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  const auto shards = (*reopened)->MappedFiles();
  ASSERT_GT(shards.size(), 5u);  // ~8 MB in shards of at most 1 MB of tensor data
  for (const std::string& shard : shards) {
    EXPECT_NE(shard.find(absl::StrFormat("-of-%05d.safetensors", shards.size())), std::string::npos) << shard;
    EXPECT_LE(fs::file_size(shard), 1'000'000u + 100'000u) << shard;  // + its header
  }
  EXPECT_EQ((*reopened)->TensorNames().size(), 548u);

  SlicingProfile bad = (*profiles)[0];
  bad.skipped = {9};
  bad.ffn_widths.pop_back();
  auto status = WriteSlicedCheckpoint(kDir, bad, (fs::path(::testing::TempDir()) / "sliced_bad").string());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("K/V"), std::string::npos) << status;
}

}  // namespace
}  // namespace gemma3n
