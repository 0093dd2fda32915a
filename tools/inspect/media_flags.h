// --audio FILE (repeatable): audio for a command's prompt, encoded by the
// checkpoint's audio tower into placeholder rows (see audio_pipeline.h).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "audio_worker/audio_model.h"
#include "common/cli/args.h"
#include "common/config/model_config.h"
#include "text_worker/model/text_model.h"

namespace gemma3n::inspect {

// nullopt without --audio. Files are concatenated as spans in order.
// pool: the threads to encode on (the text model's, so --threads holds for
// every part); null = a pool of the encoder's own.
absl::StatusOr<std::optional<AudioSpans>> AudioFromArgs(const Args& args, const std::string& model_dir,
                                                        const ModelConfig& config, ThreadPool* pool = nullptr);

// --image FILE (repeatable): soft tokens of each image, in order,
// [images * soft_tokens_per_image, text hidden]; empty without --image.
struct ImageRows {
  int images = 0;
  int64_t rows_per_image = 0;
  int64_t hidden = 0;
  std::vector<float> rows;
};
absl::StatusOr<ImageRows> ImagesFromArgs(const Args& args, const std::string& model_dir, const ModelConfig& config,
                                         ThreadPool* pool = nullptr);

// The soft rows of a prompt's image and audio placeholders.
absl::StatusOr<SoftTokenRows> MediaSoftRows(absl::Span<const int> ids, const ModelConfig& config,
                                            const ImageRows& images, const std::optional<AudioSpans>& audio);

}  // namespace gemma3n::inspect
