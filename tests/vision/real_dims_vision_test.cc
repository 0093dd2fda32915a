// The built-in mobilenetv5_300m_enc spec is exactly right: our generator of
// the real-dims weight formula reproduces the golden weight file (sha256),
// and at 768x768 the tower's map [16, 16, 2048] and the 256 soft tokens match
// the reference for its formula input ("pattern"). The 600 MB weight file is
// generated into the build's test cache once.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/support/deterministic_weights.h"
#include "tests/support/golden.h"
#include "vision_worker/encoder/builtin_specs.h"
#include "vision_worker/encoder/vision_encoder.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TestDataPath;

std::string RealDimsVisionDir() {
  return testing::EnsureRealDimsCheckpoint(
      GEMMA3N_TEST_CACHE_DIR, "real-dims-vision",
      [](const nlohmann::json& json) {
        const nlohmann::json vision = json["vision_config"];
        auto spec_json = BuiltinVisionSpec(vision["architecture"].get<std::string>());
        EXPECT_TRUE(spec_json.ok()) << spec_json.status();
        auto spec = ParseVisionSpec(*spec_json);
        auto vocab = ParseEmbedderVocab(vision);
        EXPECT_TRUE(spec.ok() && vocab.ok());
        return VisionTowerTensorShapes(*spec, *vocab, json["text_config"]["hidden_size"].get<int>());
      },
      testing::VisionTowerRole);
}

TEST(RealDimsVisionTest, WeightsReproduceTheRecordedFile) {
  EXPECT_EQ(testing::FileSha256(RealDimsVisionDir() + "/model.safetensors"), testing::RecordedSha256("real-dims-vision"));
}

TEST(RealDimsVisionTest, BuiltInSpecGivesTheReferenceOutputs) {
  auto encoder = VisionEncoder::Load(RealDimsVisionDir());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  ASSERT_EQ((*encoder)->spec().input_h, 768);
  // The README's formula input: q[c,y,x] = (x*x + 3*y*y + 7*x*y + 85*c + 40*seed) mod 256, / 255.
  std::vector<float> pixels(3 * 768 * 768);
  for (int c = 0; c < 3; ++c)
    for (int y = 0; y < 768; ++y)
      for (int x = 0; x < 768; ++x) {
        const int64_t q = (static_cast<int64_t>(x) * x + 3LL * y * y + 7LL * x * y + 85 * c + 40) % 256;
        pixels[(static_cast<size_t>(c) * 768 + y) * 768 + x] = static_cast<float>(q) * (1.0f / 255.0f);
      }
  auto out = (*encoder)->Encode(pixels);
  ASSERT_TRUE(out.ok()) << out.status();
  GoldenFile golden("golden/vision/real_dims_pattern.safetensors");
  const FeatureMap& f = out->features;
  ASSERT_EQ(f.pixels(), 256);
  std::vector<float> nchw(f.data.size());
  for (int64_t pix = 0; pix < f.pixels(); ++pix)
    for (int ch = 0; ch < f.c; ++ch) nchw[ch * f.pixels() + pix] = f.data[pix * f.c + ch];
  const float map = MaxAbsDiff(nchw, golden.F32("pattern.vision_out"));
  const float soft = MaxAbsDiff(out->soft_tokens, golden.F32("pattern.soft_tokens"));
  std::printf("[golden] real-dims vision (768x768 pattern): vision_out max|diff| %.3g, 256 soft tokens %.3g\n", map,
              soft);
  EXPECT_LE(map, 1e-3f);  // the golden README's suggestion for f32; a spec error moves outputs by O(1)
  EXPECT_LE(soft, 1e-3f);
}

}  // namespace
}  // namespace gemma3n
