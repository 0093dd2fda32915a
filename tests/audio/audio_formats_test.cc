// The same recording in other containers, codecs, rates and channel counts
// gives (nearly) the same features as the 16 kHz mono original.
#include <samplerate.h>
#include <sndfile.h>  // format constants

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "audio_worker/decode/audio_decoder.h"
#include "audio_worker/features/log_mel.h"
#include "gtest/gtest.h"
#include "tests/audio/sound_files.h"
#include "tests/support/golden.h"

namespace gemma3n {
namespace {

using testing::ReadFileBytes;
using testing::WriteSoundFile;

struct Diff {
  float max, mean;
};

Diff Compare(const LogMelFeatures& a, const LogMelFeatures& b) {
  EXPECT_EQ(a.frames, b.frames);
  const size_t n = std::min(a.values.size(), b.values.size());
  float max = 0;
  double sum = 0;
  for (size_t i = 0; i < n; ++i) {
    const float d = std::fabs(a.values[i] - b.values[i]);
    max = std::max(max, d);
    sum += d;
  }
  return {max, static_cast<float>(sum / n)};
}

TEST(AudioFormatsTest, OtherEncodingsOfTheSameClipGiveTheSameFeatures) {
  auto original = DecodeAudio(ReadFileBytes(testing::TestDataPath("audio/speech7s.wav")));
  ASSERT_TRUE(original.ok());
  const LogMelExtractor extractor{LogMelConfig{}};
  auto reference = extractor.Extract(original->samples);
  ASSERT_TRUE(reference.ok());
  const auto features_of = [&](const std::vector<uint8_t>& bytes) {
    auto w = DecodeAudio(bytes);
    EXPECT_TRUE(w.ok()) << w.status();
    auto f = extractor.Extract(w->samples);
    EXPECT_TRUE(f.ok());
    return *f;
  };

  // Lossless: FLAC and float WAV of the same 16-bit samples are identical.
  for (int format : {SF_FORMAT_FLAC | SF_FORMAT_PCM_16, SF_FORMAT_WAV | SF_FORMAT_FLOAT, SF_FORMAT_WAV | SF_FORMAT_PCM_24}) {
    const Diff d = Compare(features_of(WriteSoundFile(original->samples, 16000, 1, format)), *reference);
    EXPECT_EQ(d.max, 0.0f) << std::hex << format;
  }

  // Lossy (Vorbis) and resampled (44.1 kHz stereo, up and back down): the
  // log-mel values move most in near-silent bins (log of tiny energies), so
  // the bound is on the mean difference, with a loose bound on the maximum.
  // Measured on speech7s: Vorbis at quality 0.9 mean ~0.06 (it drops detail
  // in near-silent bands, where log-mel sits close to its floor); the
  // 44.1 kHz round trip mean < 1e-4, max ~0.01 (log units; the features
  // span about [-11.5, 3]).
  const Diff vorbis = Compare(features_of(WriteSoundFile(original->samples, 16000, 1, SF_FORMAT_OGG | SF_FORMAT_VORBIS)), *reference);
  std::printf("[measure] Vorbis: mean|diff| %.4f, max %.3f\n", vorbis.mean, vorbis.max);
  EXPECT_LT(vorbis.mean, 0.25f);

  std::vector<float> up(static_cast<size_t>(original->samples.size() * 44100.0 / 16000.0) + 64);
  SRC_DATA data{};
  data.data_in = original->samples.data();
  data.input_frames = static_cast<long>(original->samples.size());
  data.data_out = up.data();
  data.output_frames = static_cast<long>(up.size());
  data.src_ratio = 44100.0 / 16000.0;
  ASSERT_EQ(src_simple(&data, SRC_SINC_BEST_QUALITY, 1), 0);
  up.resize(data.output_frames_gen);
  std::vector<float> stereo(up.size() * 2);
  for (size_t i = 0; i < up.size(); ++i) stereo[2 * i] = stereo[2 * i + 1] = up[i];
  const Diff resampled = Compare(features_of(WriteSoundFile(stereo, 44100, 2, SF_FORMAT_WAV | SF_FORMAT_FLOAT)), *reference);
  std::printf("[measure] 44.1 kHz stereo round trip: mean|diff| %.4f, max %.3f\n", resampled.mean, resampled.max);
  EXPECT_LT(resampled.mean, 0.01f);
  EXPECT_LT(resampled.max, 0.1f);
}

}  // namespace
}  // namespace gemma3n
