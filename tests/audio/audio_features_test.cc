// Audio decoding (libsndfile, libsamplerate) and log-mel features against the
// reference feature extractor's outputs; bad audio gives clear errors.
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "audio_worker/decode/audio_decoder.h"
#include "audio_worker/features/log_mel.h"
#include "common/checkpoint/checkpoint.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/audio/sound_files.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::MaxAbsDiff;
using testing::TestDataPath;

using testing::ReadFileBytes;

LogMelExtractor TinyModelExtractor() {
  auto json = ReadJsonFile(testing::TinyModelDir() + "/preprocessor_config.json");
  EXPECT_TRUE(json.ok());
  auto config = LogMelConfigFromJson(*json);
  EXPECT_TRUE(config.ok()) << config.status();
  return LogMelExtractor(*config);
}

TEST(AudioFeaturesTest, TinyGoldenClipsFromTheWavFiles) {
  GoldenFile golden("golden/text/golden.safetensors");
  GoldenFile ids("golden/text/golden_ids.safetensors");
  const LogMelExtractor extractor = TinyModelExtractor();
  for (const auto& [wav, key] : {std::pair<std::string, std::string>{"audio_0.wav", "text_audio_0"},
                                 {"audio_1.wav", "text_audio_1"}}) {
    auto w = DecodeAudio(ReadFileBytes(TestDataPath("audio/" + wav)));
    ASSERT_TRUE(w.ok()) << w.status();
    EXPECT_EQ(w->source_rate, 16000);
    auto f = extractor.Extract(w->samples);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(std::vector<int64_t>({1, f->frames, f->features}), golden.Shape(key + ".input_features"));
    const float diff = MaxAbsDiff(f->values, golden.F32(key + ".input_features"));
    std::printf("[golden] %s log-mel from %s: max|diff| = %.3g\n", key.c_str(), wav.c_str(), diff);
    EXPECT_LE(diff, 1e-3f);
    const std::vector<int> mask = ids.Ids(key + ".input_features_mask");
    EXPECT_EQ(std::vector<int>(f->mask.begin(), f->mask.end()), mask);
  }
}

TEST(AudioFeaturesTest, RealSizeClipsMatchTheReference) {
  GoldenFile golden("golden/audio/real_dims_features.safetensors");
  const LogMelExtractor extractor{LogMelConfig{}};  // the real model's defaults
  for (const std::string clip : {"speech7s", "speech30s"}) {
    auto w = DecodeAudio(ReadFileBytes(TestDataPath("audio/" + clip + ".wav")));
    ASSERT_TRUE(w.ok()) << w.status();
    auto f = extractor.Extract(w->samples);
    ASSERT_TRUE(f.ok()) << f.status();
    EXPECT_EQ(std::vector<int64_t>({1, f->frames, 128}), golden.Shape(clip + ".input_features"));
    const float diff = MaxAbsDiff(f->values, golden.F32(clip + ".input_features"));
    std::printf("[golden] %s log-mel: %lld frames, max|diff| = %.3g\n", clip.c_str(),
                static_cast<long long>(f->frames), diff);
    EXPECT_LE(diff, 1e-3f);
    EXPECT_EQ(f->mask, golden.Bytes(clip + ".input_features_mask"));
  }
}

// `frames` of a sine at `hz`, amplitude 0.5, on every channel, as a file.
std::vector<uint8_t> SineFile(int rate, int channels, int frames, double hz, int format) {
  std::vector<float> data(static_cast<size_t>(frames) * channels);
  for (int i = 0; i < frames; ++i) {
    for (int c = 0; c < channels; ++c) data[i * channels + c] = 0.5f * std::sin(2 * M_PI * hz * i / rate);
  }
  return testing::WriteSoundFile(data, rate, channels, format);
}

TEST(AudioDecodeTest, ResamplesAndDownmixesOtherFormats) {
  for (int format : {SF_FORMAT_WAV | SF_FORMAT_PCM_24, SF_FORMAT_WAV | SF_FORMAT_FLOAT, SF_FORMAT_FLAC | SF_FORMAT_PCM_16,
                     SF_FORMAT_OGG | SF_FORMAT_VORBIS}) {
    auto w = DecodeAudio(SineFile(44100, 2, 44100, 1000.0, format));
    ASSERT_TRUE(w.ok()) << w.status() << " format " << std::hex << format;
    EXPECT_EQ(w->sample_rate, 16000);
    EXPECT_EQ(w->source_channels, 2);
    EXPECT_NEAR(static_cast<double>(w->samples.size()), 16000.0, 50.0);
    // Still a 1 kHz tone of amplitude 0.5: count zero crossings over 0.5 s.
    int crossings = 0;
    for (size_t i = 4001; i < 12000; ++i) crossings += (w->samples[i - 1] < 0) != (w->samples[i] < 0);
    EXPECT_NEAR(crossings, 1000, 20) << std::hex << format;
    float peak = 0;
    for (size_t i = 1000; i < 15000; ++i) peak = std::max(peak, std::fabs(w->samples[i]));
    EXPECT_NEAR(peak, 0.5f, 0.03f) << std::hex << format;
  }
}

TEST(AudioDecodeTest, BadAudioIsAClearInvalidArgument) {
  const auto expect_invalid = [](const absl::StatusOr<Waveform>& w, const std::string& words) {
    EXPECT_EQ(w.status().code(), absl::StatusCode::kInvalidArgument) << w.status();
    EXPECT_NE(w.status().message().find(words), std::string::npos) << w.status();
  };
  expect_invalid(DecodeAudio({}), "empty");
  const std::vector<uint8_t> junk = {'n', 'o', 't', ' ', 'a', 'u', 'd', 'i', 'o', 0, 1, 2, 3};
  expect_invalid(DecodeAudio(junk), "not a supported audio file");
  std::vector<uint8_t> safetensors_file = ReadFileBytes(TestDataPath("golden/text/golden_ids.safetensors"));
  expect_invalid(DecodeAudio(safetensors_file), "not a supported audio file");

  const std::vector<uint8_t> wav = ReadFileBytes(TestDataPath("audio/audio_0.wav"));
  std::vector<uint8_t> truncated(wav.begin(), wav.begin() + wav.size() / 2);
  expect_invalid(DecodeAudio(truncated), "truncated");

  std::vector<uint8_t> silent = SineFile(16000, 1, 0, 440, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  expect_invalid(DecodeAudio(silent), "no samples");

  std::vector<uint8_t> slow = wav;  // the fmt chunk's sample rate (offset 24) set to 50 Hz
  slow[24] = 50;
  slow[25] = slow[26] = slow[27] = 0;
  expect_invalid(DecodeAudio(slow), "sample rate 50 Hz");
  // Rates libsndfile itself refuses to open ("SF_INFO struct incomplete") get
  // the same message: the header is read first.
  for (uint32_t rate : {0u, 4000000000u}) {
    std::vector<uint8_t> odd = wav;
    for (int i = 0; i < 4; ++i) odd[24 + i] = static_cast<uint8_t>(rate >> (8 * i));
    expect_invalid(DecodeAudio(odd), absl::StrCat("sample rate ", rate, " Hz is outside"));
  }

  AudioLimits short_limit;
  short_limit.max_seconds = 1.0;
  expect_invalid(DecodeAudio(wav, 16000, short_limit), "limit is 1 s");
}

TEST(AudioFeaturesTest, ClipsOutsideTheExtractorsRangeAreRefused) {
  const LogMelExtractor extractor{LogMelConfig{}};
  EXPECT_EQ(extractor.Extract(std::vector<float>(100, 0.1f)).status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(extractor.Extract(std::vector<float>(480001, 0.1f)).status().code(), absl::StatusCode::kInvalidArgument);
  auto one = extractor.Extract(std::vector<float>(513, 0.1f));
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->frames, 1);  // padded to 640 samples: (640 - 513) / 160 + 1
  EXPECT_FALSE(LogMelConfigFromJson(nlohmann::json{{"feature_size", "many"}}).ok());
}

}  // namespace
}  // namespace gemma3n
