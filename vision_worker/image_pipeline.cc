#include "vision_worker/image_pipeline.h"

#include "common/status/status_macros.h"
#include "vision_worker/image/preprocess.h"

namespace gemma3n {

absl::StatusOr<VisionEncoding> EncodeImageBytes(const VisionEncoder& encoder, absl::Span<const uint8_t> bytes,
                                                int size, RgbImage* decoded) {
  ASSIGN_OR_RETURN(RgbImage image, DecodeImage(bytes));
  ASSIGN_OR_RETURN(VisionEncoding e, encoder.Encode(PixelValues(image, size), false, size));
  if (decoded) *decoded = std::move(image);
  return e;
}

}  // namespace gemma3n
