// The real-size audio tower (1536 wide, 12 blocks) and embedder on
// deterministic synthetic weights: our own generator reproduces the golden
// set's weight file bit for bit (sha256), and from the two WAV files our
// features, encoder outputs and 188 / 46 soft tokens match the reference.
// The 1.4 GB weight file is generated into the build's test cache once.
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio_worker/decode/audio_decoder.h"
#include "audio_worker/encoder/audio_encoder.h"
#include "audio_worker/features/log_mel.h"
#include "common/checkpoint/checkpoint.h"
#include "gtest/gtest.h"
#include "tests/support/deterministic_weights.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;
using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TestDataPath;

// The weights directory, generated on first use.
std::string RealDimsAudioDir() {
  return testing::EnsureRealDimsCheckpoint(
      GEMMA3N_TEST_CACHE_DIR, "real-dims-audio",
      [](const nlohmann::json& json) {
        const nlohmann::json audio = json["audio_config"];
        auto config = ParseAudioEncoderConfig(audio);
        auto vocab = ParseEmbedderVocab(audio);
        EXPECT_TRUE(config.ok() && vocab.ok());
        return AudioTowerTensorShapes(*config, *vocab, json["text_config"]["hidden_size"].get<int>());
      },
      testing::AudioTowerRole);
}

TEST(RealDimsAudioTest, WeightsReproduceTheRecordedFile) {
  const std::string dir = RealDimsAudioDir();
  EXPECT_EQ(testing::FileSha256(dir + "/model.safetensors"), testing::RecordedSha256("real-dims-audio"));
}

TEST(RealDimsAudioTest, ClipsFromWavMatchTheReference) {
  auto encoder = AudioEncoder::Load(RealDimsAudioDir());
  ASSERT_TRUE(encoder.ok()) << encoder.status();
  GoldenFile golden("golden/audio/real_dims_encoder.safetensors");
  const LogMelExtractor extractor{LogMelConfig{}};
  const std::map<std::string, std::vector<int64_t>> probe_rows = {{"speech30s", {0, 250, 500, 749}},
                                                                  {"speech7s", {0, 60, 121, 181}}};
  for (const std::string clip : {"speech7s", "speech30s"}) {
    std::ifstream in(TestDataPath("audio/" + clip + ".wav"), std::ios::binary);
    const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto wave = DecodeAudio(bytes);
    ASSERT_TRUE(wave.ok()) << wave.status();
    auto features = extractor.Extract(wave->samples);
    ASSERT_TRUE(features.ok()) << features.status();
    auto out = (*encoder)->Encode(features->values, features->mask, /*keep_stages=*/true);
    ASSERT_TRUE(out.ok()) << out.status();

    // Block outputs at the probe rows: where a divergence would start.
    const auto probes = golden.F32(clip + ".conformer_probes");  // [12, 4, 1536]
    const int64_t h = 1536;
    for (size_t block = 0; block < out->block_outputs.size(); ++block) {
      std::vector<float> ours, want(probes.begin() + block * 4 * h, probes.begin() + (block + 1) * 4 * h);
      for (int64_t row : probe_rows.at(clip)) {
        ours.insert(ours.end(), out->block_outputs[block].begin() + row * h,
                    out->block_outputs[block].begin() + (row + 1) * h);
      }
      EXPECT_LE(MaxAbsDiff(ours, want), 1e-3f) << clip << " block " << block;
    }
    const float states = MaxAbsDiff(out->states, golden.F32(clip + ".encoder_output"));
    const float soft = MaxAbsDiff(out->soft_tokens, golden.F32(clip + ".soft_tokens"));
    std::printf("[golden] real-dims %s: %lld soft tokens, encoder max|diff| %.3g, soft tokens %.3g\n", clip.c_str(),
                static_cast<long long>(out->tokens), states, soft);
    EXPECT_EQ(out->tokens, golden.Shape(clip + ".soft_tokens")[1]);
    EXPECT_LE(states, 1e-3f);
    EXPECT_LE(soft, 1e-3f);
    EXPECT_EQ(out->padding, golden.Bytes(clip + ".encoder_output_mask"));
  }
}

}  // namespace
}  // namespace gemma3n
