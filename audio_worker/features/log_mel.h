// Log-mel features exactly as the reference Gemma3nAudioFeatureExtractor:
// pad the waveform with zeros to a multiple of 128 samples; frames of 513
// samples every 160 (10 ms); HTK pre-emphasis 0.97 leaving 512 samples;
// periodic Hann window; |rFFT| of size 1024 (FFT "overdrive"); 128 triangular
// HTK-mel filters over 125-7600 Hz; log(max(mel, 1e-5)). Float32 framing and
// windowing, double FFT and filter bank, as the reference's NumPy code does.
// Sizes come from preprocessor_config.json.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

struct LogMelConfig {
  int sampling_rate = 16000;
  int feature_size = 128;
  int frame_length = 512;  // samples (32 ms)
  int hop_length = 160;    // samples (10 ms)
  int fft_length = 1024;
  double min_frequency = 125.0;
  double max_frequency = 7600.0;
  float preemphasis = 0.97f;
  bool preemphasis_htk_flavor = true;
  double mel_floor = 1e-5;
  float input_scale_factor = 1.0f;
  int pad_to_multiple_of = 128;
  int max_samples = 480000;  // 30 s: the reference truncates longer clips
};

// From a preprocessor_config.json (the Gemma3nAudioFeatureExtractor keys);
// missing keys keep the reference defaults. Errors name the key.
absl::StatusOr<LogMelConfig> LogMelConfigFromJson(const nlohmann::json& preprocessor);

struct LogMelFeatures {
  int64_t frames = 0;
  int features = 0;
  std::vector<float> values;  // [frames, features]
  std::vector<uint8_t> mask;  // [frames], 1 = frame of real audio
};

class LogMelExtractor {
 public:
  explicit LogMelExtractor(const LogMelConfig& config);
  const LogMelConfig& config() const { return config_; }

  // One clip (at most max_samples; longer clips are the caller's to split).
  // InvalidArgument when it is too short for one frame or too long.
  absl::StatusOr<LogMelFeatures> Extract(absl::Span<const float> waveform) const;

 private:
  LogMelConfig config_;
  std::vector<float> window_;      // [frame_length]
  std::vector<double> mel_filters_;  // [fft_length / 2 + 1, feature_size]
};

}  // namespace gemma3n
