// The audio tower and embedder against the reference on the tiny model:
// single clips end to end from the stored features, and the padded batch
// stage by stage (sub-sampler, each conformer block, reduction, masks).
#include <string>
#include <vector>

#include <cmath>

#include "audio_worker/audio_pipeline.h"
#include "audio_worker/encoder/audio_encoder.h"
#include "gtest/gtest.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;

// The golden README: an independent f64 implementation agrees to 2.1e-6;
// a real mistake moves outputs by 3e-4 or more. Stage outputs are O(1).
constexpr float kStageTol = 2e-5f;

class AudioEncoderTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto e = AudioEncoder::Load(testing::TinyModelDir());
    ASSERT_TRUE(e.ok()) << e.status();
    encoder_ = std::move(e).value().release();
  }
  static std::vector<float> Row(const std::vector<float>& batch, int b, int64_t rows, int64_t width) {
    return std::vector<float>(batch.begin() + b * rows * width, batch.begin() + (b + 1) * rows * width);
  }
  static AudioEncoder* encoder_;
};
AudioEncoder* AudioEncoderTest::encoder_ = nullptr;

TEST_F(AudioEncoderTest, LoadsOnlyTheAudioTowerAndEmbedder) {
  for (const std::string& name : encoder_->checkpoint().TensorNames()) {
    EXPECT_TRUE(name.rfind("model.audio_tower.", 0) == 0 || name.rfind("model.embed_audio.", 0) == 0) << name;
  }
}

TEST_F(AudioEncoderTest, SingleClipsMatchTheReference) {
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  for (const std::string clip : {"text_audio_0", "text_audio_1"}) {
    const std::vector<int> mask = ids.Ids(clip + ".input_features_mask");
    auto out = encoder_->Encode(golden.F32(clip + ".input_features"), std::vector<uint8_t>(mask.begin(), mask.end()));
    ASSERT_TRUE(out.ok()) << out.status();
    const float states = MaxAbsDiff(out->states, golden.F32(clip + ".audio_encoder_output"));
    const float embeds = MaxAbsDiff(out->soft_tokens, golden.F32(clip + ".audio_embeds"));
    std::printf("[golden] %s audio encoder: max|diff| %.3g, soft tokens %.3g (%lld tokens)\n", clip.c_str(), states,
                embeds, static_cast<long long>(out->tokens));
    EXPECT_LE(states, kStageTol);
    EXPECT_LE(embeds, kStageTol);
  }
}

TEST_F(AudioEncoderTest, PaddedBatchMatchesStageByStage) {
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const auto features = golden.F32("audio_batch.input_features");   // [2, T, 128]
  const auto shape = golden.Shape("audio_batch.input_features");
  const int64_t frames = shape[1], t_sub = golden.Shape("audio_batch.sscp_output")[1];
  const int64_t h = encoder_->config().hidden_size, tokens = golden.Shape("audio_batch.encoder_output")[1];
  // Clip 1 is the shorter one: its valid frames are those of its own features mask.
  const std::vector<int> lengths = {static_cast<int>(golden.Shape("text_audio_0.input_features")[1]),
                                    static_cast<int>(golden.Shape("text_audio_1.input_features")[1])};
  for (int b = 0; b < 2; ++b) {
    std::vector<uint8_t> valid(frames, 0);
    std::fill(valid.begin(), valid.begin() + lengths[b], 1);
    auto out = encoder_->Encode(Row(features, b, frames, 128), valid, /*keep_stages=*/true);
    ASSERT_TRUE(out.ok()) << out.status();
    EXPECT_LE(MaxAbsDiff(out->sscp_output, Row(golden.F32("audio_batch.sscp_output"), b, t_sub, h)), kStageTol) << b;
    for (size_t i = 0; i < out->block_outputs.size(); ++i) {
      const auto want = Row(golden.F32("audio_batch.conformer_" + std::to_string(i) + "_output"), b, t_sub, h);
      EXPECT_LE(MaxAbsDiff(out->block_outputs[i], want), kStageTol) << "clip " << b << " block " << i;
    }
    EXPECT_LE(MaxAbsDiff(out->states, Row(golden.F32("audio_batch.encoder_output"), b, tokens, h)), kStageTol) << b;
    const int text_h = 128;
    EXPECT_LE(MaxAbsDiff(out->soft_tokens, Row(golden.F32("audio_batch.embed_audio_output"), b, tokens, text_h)),
              kStageTol)
        << b;
  }
}

TEST_F(AudioEncoderTest, BadFeaturesAreErrors) {
  EXPECT_EQ(encoder_->Encode({}, {}).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(encoder_->Encode(std::vector<float>(100), std::vector<uint8_t>(3, 1)).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gemma3n

namespace gemma3n {
namespace {

// Longer than 30 s: one span per 30-second window, each padded to the
// placeholder count with the padding embedding.
TEST(AudioPipelineTest, LongRecordingsBecomeSeveralSpans) {
  auto encoder = AudioEncoder::Load(testing::TinyModelDir());
  ASSERT_TRUE(encoder.ok());
  const LogMelExtractor features{LogMelConfig{}};
  // The tiny model has 12 placeholders per span; a 30 s window gives 188
  // tokens, so use a model-sized span count for this check.
  const AudioPipeline pipeline(**encoder, features, 188);
  std::vector<float> samples(16000 * 70);
  for (size_t i = 0; i < samples.size(); ++i) samples[i] = 0.3f * std::sin(0.05f * i) * std::sin(0.0003f * i);
  auto spans = pipeline.EncodeWaveform(samples);
  ASSERT_TRUE(spans.ok()) << spans.status();
  EXPECT_EQ(spans->spans, 3);
  EXPECT_EQ(spans->real_tokens, (std::vector<int64_t>{188, 188, 63}));  // 10 s -> 1000 frames -> 250 -> 63
  EXPECT_EQ(spans->rows.size(), static_cast<size_t>(3 * 188 * 128));
  auto pad = (*encoder)->PaddingEmbedding();
  ASSERT_TRUE(pad.ok());
  const float* last = spans->rows.data() + (3 * 188 - 1) * 128;
  EXPECT_EQ(std::vector<float>(last, last + 128), *pad);
  // A tiny model's span of 12 placeholders cannot hold a 30 s window.
  const AudioPipeline small(**encoder, features, 12);
  EXPECT_FALSE(small.EncodeWaveform(samples).ok());
}

}  // namespace
}  // namespace gemma3n
