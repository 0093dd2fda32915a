// Audio bytes -> the rows a prompt's audio placeholders take: decode,
// resample, split into windows of at most 30 s (the encoder's and the
// reference processor's limit: a longer recording becomes several audio
// spans, one after the other, each with its own placeholder run), log-mel,
// encoder, embedder. Each span has exactly `soft_tokens_per_span` rows
// (audio_soft_tokens_per_image, 188 for the real model): the encoder's tokens,
// with padded and missing positions filled by the embedding of the last
// audio hard id, as Gemma3nModel does.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "audio_worker/decode/audio_decoder.h"
#include "audio_worker/encoder/audio_encoder.h"
#include "audio_worker/features/log_mel.h"

namespace gemma3n {

struct AudioSpans {
  int spans = 0;
  int64_t rows_per_span = 0;
  int64_t hidden = 0;
  std::vector<float> rows;         // [spans * rows_per_span, hidden]
  std::vector<int64_t> real_tokens;  // per span: rows that come from the encoder
  double seconds = 0;
  std::vector<double> span_seconds;  // per span: the length of its window
};

class AudioPipeline {
 public:
  AudioPipeline(const AudioEncoder& encoder, const LogMelExtractor& features, int soft_tokens_per_span)
      : encoder_(encoder), features_(features), per_span_(soft_tokens_per_span) {}

  absl::StatusOr<AudioSpans> Encode(absl::Span<const uint8_t> audio_bytes, const AudioLimits& limits = {}) const;
  absl::StatusOr<AudioSpans> EncodeWaveform(absl::Span<const float> samples) const;

 private:
  const AudioEncoder& encoder_;
  const LogMelExtractor& features_;
  int per_span_;
};

}  // namespace gemma3n
