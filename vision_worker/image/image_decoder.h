// Image bytes -> 8-bit RGB, through stb_image (JPEG, PNG, BMP, GIF first
// frame, TGA, PSD, PNM, HDR as stb reads them). Alpha is dropped, gray is
// replicated, as PIL's convert("RGB") does. The size is read from the header
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
