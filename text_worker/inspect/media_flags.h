// --audio FILE (repeatable): audio for a command's prompt, encoded by the
// checkpoint's audio tower into placeholder rows (see audio_pipeline.h).
#pragma once

#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "audio_worker/audio_pipeline.h"
#include "common/cli/args.h"
#include "common/config/model_config.h"

namespace gemma3n::inspect {

// nullopt without --audio. Files are concatenated as spans in order.
absl::StatusOr<std::optional<AudioSpans>> AudioFromArgs(const Args& args, const std::string& model_dir,
                                                        const ModelConfig& config);

}  // namespace gemma3n::inspect
