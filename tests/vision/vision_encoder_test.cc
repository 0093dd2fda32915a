// The MobileNet-V5 vision tower (tiny block spec) and the vision embedder
// against the reference (timm + HF), fed the reference pixel values.
#include <cmath>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "vision_worker/encoder/vision_encoder.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;

// The golden README: f32 vs f64 of the reference differ by 1.2e-5; atol 1e-4 suggested.
constexpr float kTol = 1e-4f;

TEST(VisionEncoderTest, ImagesMatchTheReference) {
  auto encoder = VisionEncoder::Load(testing::TinyModelDir());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  for (const std::string& name : (*encoder)->checkpoint().TensorNames()) {
    EXPECT_TRUE(name.rfind("model.vision_tower.", 0) == 0 || name.rfind("model.embed_vision.", 0) == 0) << name;
  }
  GoldenFile golden("golden/vision/tiny_vision.safetensors");
  for (const std::string c : {"image_chat", "image_audio"}) {
    auto out = (*encoder)->Encode(golden.F32(c + ".pixel_values"));
    ASSERT_TRUE(out.ok()) << out.status();
    // Golden vision_out is NCHW [1, C, 8, 8]; ours is [8, 8, C].
    const auto want = golden.F32(c + ".vision_out");
    const FeatureMap& f = out->features;
    std::vector<float> nchw(f.data.size());
    for (int64_t pix = 0; pix < f.pixels(); ++pix)
      for (int ch = 0; ch < f.c; ++ch) nchw[ch * f.pixels() + pix] = f.data[pix * f.c + ch];
    const float features = MaxAbsDiff(nchw, want);
    const float soft = MaxAbsDiff(out->soft_tokens, golden.F32(c + ".image_soft_tokens"));
    std::printf("[golden] %s vision_out max|diff| %.3g, soft tokens %.3g\n", c.c_str(), features, soft);
    EXPECT_LE(features, kTol);
    EXPECT_LE(soft, kTol);
  }
  EXPECT_EQ((*encoder)->Encode(std::vector<float>(10)).status().code(), absl::StatusCode::kInvalidArgument);
}

// Other input sizes keep the output grid (the fusion adapter pools to it).
TEST(VisionEncoderTest, OtherInputSizesGiveTheSameNumberOfTokens) {
  auto encoder = VisionEncoder::Load(testing::TinyModelDir());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  for (int size : {128, 256, 384}) {
    std::vector<float> pixels(3 * size * size);
    for (size_t i = 0; i < pixels.size(); ++i) pixels[i] = static_cast<float>((i * 37) % 255) / 255.0f;
    auto out = (*encoder)->Encode(pixels, false, size);
    ASSERT_TRUE(out.ok()) << size << ": " << out.status();
    EXPECT_EQ(out->features.pixels(), 64) << size;
    for (float v : out->soft_tokens) ASSERT_TRUE(std::isfinite(v)) << size;
  }
  auto bad = (*encoder)->Encode(std::vector<float>(3 * 300 * 300), false, 300);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("multiple of"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace gemma3n
