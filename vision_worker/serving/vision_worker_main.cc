// gemma3n-vision-worker: image bytes in, soft tokens [256 (real model) or
// vision_soft_tokens_per_image, text hidden] out, through
// gemma3n.internal.v1.VisionEncoder. Maps only model.vision_tower.* and
// model.embed_vision.*.
#include "common/serving/encoder_worker.h"
#include "common/status/status_macros.h"
#include "vision_worker/encoder/vision_encoder.h"
#include "vision_worker/image_pipeline.h"

namespace gemma3n {
namespace {

class VisionBackend final : public MediaEncoderBackend {
 public:
  VisionBackend(std::unique_ptr<VisionEncoder> encoder, int default_size)
      : encoder_(std::move(encoder)), default_size_(default_size > 0 ? default_size : encoder_->spec().input_h) {}

  // The mime type is not needed: the decoder sniffs the content.
  absl::StatusOr<std::vector<EncodedSpan>> Encode(const std::string& bytes, const std::string&,
                                                  int image_size) const override {
    const int size = image_size > 0 ? image_size : default_size_;
    ASSIGN_OR_RETURN(VisionEncoding e,
                     EncodeImageBytes(*encoder_, absl::MakeConstSpan(reinterpret_cast<const uint8_t*>(bytes.data()),
                                                                     bytes.size()),
                                      size));
    EncodedSpan span;
    span.rows = static_cast<int>(e.features.pixels());
    span.width = static_cast<int>(e.soft_tokens.size() / span.rows);
    span.values = std::move(e.soft_tokens);
    return std::vector<EncodedSpan>{std::move(span)};
  }

 private:
  std::unique_ptr<VisionEncoder> encoder_;
  int default_size_;
};

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  return gemma3n::RunEncoderWorker(
      argc, argv, "vision",
      [](const gemma3n::EncoderWorkerFlags& f) -> absl::StatusOr<std::unique_ptr<gemma3n::MediaEncoderBackend>> {
        ASSIGN_OR_RETURN(auto encoder, gemma3n::VisionEncoder::Load(f.model_dir, f.pool));
        return std::make_unique<gemma3n::VisionBackend>(std::move(encoder), f.image_size);
      });
}
