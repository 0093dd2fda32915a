// The Gemma 3n image processor (SiglipImageProcessorFast as configured):
// stretch to the model's square input (aspect ratio not kept) with
// antialiased bilinear resampling on the 8-bit image (separable triangle
// filter widened by the down-scaling factor, width then height, in float),
// round back to uint8, then scale by 1/255; no mean/std normalisation.
// Output NCHW float [3, size, size] in [0, 1].
#pragma once

#include <cstdint>
#include <vector>

#include "vision_worker/image/image_decoder.h"

namespace gemma3n {

// CHW uint8 [3, out_h, out_w].
std::vector<uint8_t> ResizeBilinearAntialias(const RgbImage& image, int out_h, int out_w);
// The model input for an image.
std::vector<float> PixelValues(const RgbImage& image, int size);

}  // namespace gemma3n
