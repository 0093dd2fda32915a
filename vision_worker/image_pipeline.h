// Image file bytes -> soft tokens: decode (JPEG, PNG, BMP, GIF...), resize to
// the square input `size` as the reference processor does, encode and embed.
// The one path the vision worker, gemma3n-inspect and the bench share.
#pragma once

#include <cstdint>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "vision_worker/encoder/vision_encoder.h"
#include "vision_worker/image/image_decoder.h"

namespace gemma3n {

// INVALID_ARGUMENT for bytes that are no usable image (see DecodeImage) or a
// size the tower cannot take. decoded: the decoded image, when asked for.
absl::StatusOr<VisionEncoding> EncodeImageBytes(const VisionEncoder& encoder, absl::Span<const uint8_t> bytes,
                                                int size, RgbImage* decoded = nullptr);

}  // namespace gemma3n
