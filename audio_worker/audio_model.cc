#include "audio_worker/audio_model.h"

#include "common/checkpoint/checkpoint.h"
#include "common/status/status_macros.h"

namespace gemma3n {

absl::StatusOr<std::unique_ptr<AudioModel>> AudioModel::Load(const std::string& model_dir, int soft_tokens_per_span,
                                                              ThreadPool* pool) {
  ASSIGN_OR_RETURN(std::unique_ptr<AudioEncoder> encoder, AudioEncoder::Load(model_dir, pool));
  LogMelConfig mel;
  if (auto pre = ReadJsonFile(model_dir + "/preprocessor_config.json"); pre.ok()) {
    ASSIGN_OR_RETURN(mel, LogMelConfigFromJson(*pre));
  }
  return std::unique_ptr<AudioModel>(new AudioModel(std::move(encoder), mel, soft_tokens_per_span));
}

}  // namespace gemma3n
