// Image bytes -> 8-bit RGB. JPEG through libjpeg-turbo (accurate integer
// IDCT, fancy chroma upsampling: the decoder the reference's PIL uses, so the
// pixels are identical; stb's JPEG decoder differs by a few levels, which
// moves the tiny model's logits by O(1)); PNG, BMP and the first frame of a
// GIF through stb_image (its other formats are compiled out). Alpha is dropped, gray
// is replicated, as PIL's convert("RGB") does. The size is read from the header
// and checked before any pixel is decoded (decompression bombs).
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/types/span.h"

namespace gemma3n {

struct RgbImage {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;  // [height, width, 3]
};

struct ImageLimits {
  int64_t max_pixels = 50'000'000;  // refuse before decoding
  int max_side = 32768;
};

// InvalidArgument with a message a user can act on: empty, not an image,
// corrupt or truncated, zero size, too many pixels.
absl::StatusOr<RgbImage> DecodeImage(absl::Span<const uint8_t> bytes, const ImageLimits& limits = {});

}  // namespace gemma3n
