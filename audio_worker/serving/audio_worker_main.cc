// gemma3n-audio-worker: audio file bytes in, one soft-token span per 30 s
// window out ([audio_soft_tokens_per_image, text hidden] each, padded as the
// model pads them), through gemma3n.internal.v1.AudioEncoder. Maps only
// model.audio_tower.* and model.embed_audio.*.
#include "audio_worker/audio_model.h"
#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/serving/encoder_worker.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

class AudioBackend final : public MediaEncoderBackend {
 public:
  explicit AudioBackend(std::unique_ptr<AudioModel> model) : model_(std::move(model)) {}

  // The mime type is not needed: libsndfile reads the container's header.
  absl::StatusOr<std::vector<EncodedSpan>> Encode(const std::string& bytes, const std::string&,
                                                  int) const override {
    ASSIGN_OR_RETURN(AudioSpans a, model_->pipeline().Encode(absl::MakeConstSpan(
                                       reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size())));
    std::vector<EncodedSpan> out(a.spans);
    const int64_t per_span = a.rows_per_span * a.hidden;
    for (int s = 0; s < a.spans; ++s) {
      out[s].rows = static_cast<int>(a.rows_per_span);
      out[s].width = static_cast<int>(a.hidden);
      out[s].values.assign(a.rows.begin() + s * per_span, a.rows.begin() + (s + 1) * per_span);
      out[s].seconds = a.span_seconds[s];
    }
    return out;
  }

 private:
  std::unique_ptr<AudioModel> model_;
};

absl::StatusOr<std::unique_ptr<MediaEncoderBackend>> LoadAudio(const EncoderWorkerFlags& f) {
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(f.model_dir + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  if (!config.has_audio) return absl::InvalidArgumentError(f.model_dir + " has no audio_config");
  ASSIGN_OR_RETURN(auto model, AudioModel::Load(f.model_dir, config.audio_soft_tokens_per_image, f.pool));
  return std::make_unique<AudioBackend>(std::move(model));
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) { return gemma3n::RunEncoderWorker(argc, argv, "audio", gemma3n::LoadAudio); }
