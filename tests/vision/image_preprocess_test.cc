// Image decoding and the processor's resize against the reference (PIL
// decoding, torchvision antialiased bilinear resize on uint8); bad images.
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/support/golden.h"
#include "vision_worker/image/image_decoder.h"
#include "vision_worker/image/preprocess.h"

namespace gemma3n {
namespace {

using testing::GoldenFile;
using testing::TestDataPath;

std::vector<uint8_t> ReadBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

TEST(ImagePreprocessTest, DecodeAndResizeMatchTheReference) {
  GoldenFile golden("golden/vision/tiny_resize.safetensors");
  for (const auto& [file, key] : {std::pair<std::string, std::string>{"image_0.png", "image_0"}, {"image_1.jpg", "image_1"}}) {
    auto image = DecodeImage(ReadBytes(TestDataPath("images/" + file)));
    ASSERT_TRUE(image.ok()) << image.status();
    const auto rgb = golden.Bytes(key + ".rgb_u8");
    ASSERT_EQ(image->pixels.size(), rgb.size());
    int decode_max = 0;
    for (size_t i = 0; i < rgb.size(); ++i) decode_max = std::max(decode_max, std::abs(image->pixels[i] - rgb[i]));
    // The same decoders as the reference (zlib PNG; libjpeg-turbo JPEG): identical pixels.
    EXPECT_EQ(decode_max, 0) << file;

    // Resize the reference's decoded pixels, so only the resize is compared.
    RgbImage reference;
    reference.height = static_cast<int>(golden.Shape(key + ".rgb_u8")[0]);
    reference.width = static_cast<int>(golden.Shape(key + ".rgb_u8")[1]);
    reference.pixels = rgb;
    const auto resized = ResizeBilinearAntialias(reference, 384, 384);
    const auto want = golden.Bytes(key + ".resized_u8");
    ASSERT_EQ(resized.size(), want.size());
    int max = 0;
    size_t off = 0;
    for (size_t i = 0; i < want.size(); ++i) {
      const int d = std::abs(resized[i] - want[i]);
      max = std::max(max, d);
      off += d != 0;
    }
    std::printf("[golden] %s: decode max |diff| %d, resize max |diff| %d LSB, %zu of %zu values differ\n",
                file.c_str(), decode_max, max, off, want.size());
    EXPECT_LE(max, 1);  // the golden README: 1 LSB between resize implementations
  }
}

TEST(ImagePreprocessTest, BadImagesAreClearErrors) {
  const auto expect_invalid = [](const absl::StatusOr<RgbImage>& r, const std::string& words) {
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
    EXPECT_NE(r.status().message().find(words), std::string::npos) << r.status();
  };
  expect_invalid(DecodeImage({}), "empty");
  const std::vector<uint8_t> text = {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd'};
  expect_invalid(DecodeImage(text), "not a supported image");
  const std::vector<uint8_t> png = ReadBytes(TestDataPath("images/image_0.png"));
  std::vector<uint8_t> truncated(png.begin(), png.begin() + png.size() / 3);
  expect_invalid(DecodeImage(truncated), "corrupt or truncated");
  ImageLimits small;
  small.max_pixels = 1000;
  expect_invalid(DecodeImage(png, small), "more than the limit");
  const std::vector<uint8_t> jpeg = ReadBytes(TestDataPath("images/image_1.jpg"));
  std::vector<uint8_t> cut_jpeg(jpeg.begin(), jpeg.begin() + 200);
  EXPECT_EQ(DecodeImage(cut_jpeg).status().code(), absl::StatusCode::kInvalidArgument);
  // Cut to a third: libjpeg only warns (and fills in grey); it is refused.
  std::vector<uint8_t> third_jpeg(jpeg.begin(), jpeg.begin() + jpeg.size() / 3);
  expect_invalid(DecodeImage(third_jpeg), "corrupt or truncated");
  ASSERT_TRUE(DecodeImage(jpeg).ok());  // the whole file still decodes
  expect_invalid(DecodeImage(jpeg, small), "more than the limit");
  // A PNG header that claims 100000 x 100000 pixels is refused before decoding.
  std::vector<uint8_t> bomb = png;
  for (int i : {16, 20}) {  // IHDR width and height, big endian
    bomb[i] = 0x00, bomb[i + 1] = 0x01, bomb[i + 2] = 0x86, bomb[i + 3] = 0xA0;
  }
  expect_invalid(DecodeImage(bomb), "100000x100000 pixels is more than the limit");
  // A 73-byte GIF declaring 2053 x 20617 pixels (stb would clear 380 MB; found by fuzz_image).
  const std::vector<uint8_t> gif =
      ReadBytes(TestDataPath("../fuzz/corpus/image/regress-gif-canvas-380mb-in-73-bytes.gif"));
  expect_invalid(DecodeImage(gif), "GIF is truncated");
}

}  // namespace
}  // namespace gemma3n
