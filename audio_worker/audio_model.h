// The audio path of a model directory, loaded once: the audio tower and
// embedder, the log-mel extractor configured from preprocessor_config.json
// (the defaults when the file is absent) and the pipeline over them. The one
// loader the audio worker and gemma3n-inspect share.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "audio_worker/audio_pipeline.h"

namespace gemma3n {

class AudioModel {
 public:
  // soft_tokens_per_span: the config's audio_soft_tokens_per_image.
  static absl::StatusOr<std::unique_ptr<AudioModel>> Load(const std::string& model_dir, int soft_tokens_per_span,
                                                          ThreadPool* pool = nullptr);

  const AudioPipeline& pipeline() const { return pipeline_; }

 private:
  AudioModel(std::unique_ptr<AudioEncoder> encoder, const LogMelConfig& mel, int soft_tokens_per_span)
      : encoder_(std::move(encoder)), features_(mel), pipeline_(*encoder_, features_, soft_tokens_per_span) {}

  std::unique_ptr<AudioEncoder> encoder_;
  LogMelExtractor features_;
  AudioPipeline pipeline_;
};

}  // namespace gemma3n
