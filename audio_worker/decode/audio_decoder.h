// Audio bytes -> 16 kHz mono float waveform, through Debian's libsndfile
// (WAV in every PCM/float flavour, FLAC, OGG/Vorbis, Opus, MP3 as the
// installed libsndfile supports them) and libsamplerate for the resampling.
// Channels are averaged. Samples are in [-1, 1) as the reference processor
// gets them from a 16-bit file (int16 / 32768).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gemma3n {

struct Waveform {
  std::vector<float> samples;  // mono, at sample_rate
  int sample_rate = 16000;
  // What the file said.
  int source_rate = 0;
  int source_channels = 0;
  std::string source_format;  // e.g. "WAV (Microsoft) / Signed 16 bit PCM"
  double seconds() const { return static_cast<double>(samples.size()) / sample_rate; }
};

struct AudioLimits {
  double max_seconds = 3600.0;     // refuse longer inputs before decoding them
  int min_sample_rate = 1000;      // below: not a usable recording
  int max_sample_rate = 768000;
  int max_channels = 64;
};

// InvalidArgument with a message a user can act on for anything that is not
// a decodable, non-empty recording within the limits (not audio, truncated,
// zero-length, absurd sample rate or channel count, too long).
absl::StatusOr<Waveform> DecodeAudio(absl::Span<const uint8_t> bytes, int target_rate = 16000,
                                     const AudioLimits& limits = {});

}  // namespace gemma3n
