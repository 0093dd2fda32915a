#include "audio_worker/audio_pipeline.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace gemma3n {

absl::StatusOr<AudioSpans> AudioPipeline::Encode(absl::Span<const uint8_t> audio_bytes,
                                                 const AudioLimits& limits) const {
  ASSIGN_OR_RETURN(Waveform wave, DecodeAudio(audio_bytes, features_.config().sampling_rate, limits));
  return EncodeWaveform(wave.samples);
}

absl::StatusOr<AudioSpans> AudioPipeline::EncodeWaveform(absl::Span<const float> samples) const {
  if (samples.empty()) return absl::InvalidArgumentError("audio: no samples");
  const int64_t window = features_.config().max_samples;
  ASSIGN_OR_RETURN(std::vector<float> padding_row, encoder_.PaddingEmbedding());
  AudioSpans out;
  out.rows_per_span = per_span_;
  out.hidden = static_cast<int64_t>(padding_row.size());
  out.seconds = static_cast<double>(samples.size()) / features_.config().sampling_rate;
  for (int64_t begin = 0; begin < static_cast<int64_t>(samples.size()); begin += window) {
    const int64_t n = std::min<int64_t>(window, samples.size() - begin);
    // A short tail shorter than one frame would not encode: pad it with silence.
    std::vector<float> clip(samples.begin() + begin, samples.begin() + begin + n);
    if (clip.size() < static_cast<size_t>(features_.config().frame_length + 1)) {
      clip.resize(features_.config().frame_length + 1, 0.0f);
    }
    ASSIGN_OR_RETURN(LogMelFeatures f, features_.Extract(clip));
    ASSIGN_OR_RETURN(AudioEncoding e, encoder_.Encode(f.values, f.mask));
    if (e.tokens > per_span_) {
      return absl::InvalidArgumentError(absl::StrCat("a ", clip.size() / features_.config().sampling_rate,
                                                     " s audio window gives ", e.tokens, " soft tokens, more than the ",
                                                     per_span_, " placeholders the model has per audio span"));
    }
    int64_t real = 0;
    for (int64_t i = 0; i < per_span_; ++i) {
      const bool from_encoder = i < e.tokens && !e.padding[i];
      const float* row = from_encoder ? e.soft_tokens.data() + i * out.hidden : padding_row.data();
      out.rows.insert(out.rows.end(), row, row + out.hidden);
      real += from_encoder;
    }
    out.real_tokens.push_back(real);
    out.span_seconds.push_back(static_cast<double>(n) / features_.config().sampling_rate);
    ++out.spans;
  }
  return out;
}

}  // namespace gemma3n
