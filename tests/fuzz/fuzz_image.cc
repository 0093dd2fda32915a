// Image bytes -> DecodeImage (libjpeg-turbo for JPEG, stb_image for the rest)
// with the vision worker's limits (ImageLimits{}: its pixel budget), then the
// processor's antialiased resize: PixelValues to a square input, and a small
// odd-shaped ResizeBilinearAntialias so down- and up-scaling along both axes
// are exercised. The square is 64, not the real tower's 768: the resize code
// does not depend on the size, and 768 would cost ~150x more per input.
#include "tests/fuzz/fuzz_target.h"
#include "vision_worker/image/image_decoder.h"
#include "vision_worker/image/preprocess.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const auto image = DecodeImage(absl::MakeConstSpan(data, size));
  if (!image.ok()) return 0;
  if (image->width <= 0 || image->height <= 0 ||
      image->pixels.size() != static_cast<size_t>(image->width) * image->height * 3) {
    fuzz::Violated("decoded image has a size its pixels do not match");
  }
  constexpr int kSquare = 64;
  if (PixelValues(*image, kSquare).size() != size_t{3} * kSquare * kSquare) fuzz::Violated("PixelValues size");
  if (ResizeBilinearAntialias(*image, 3, 5).size() != size_t{3} * 3 * 5) fuzz::Violated("resize size");
  return 0;
}
