#include "vision_worker/image/image_decoder.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"

#include <turbojpeg.h>

#define STB_IMAGE_IMPLEMENTATION
#define STBI_FAILURE_USERMSG
// Only the formats the API promises. stb's other decoders are rarely used
// and less hardened: its PNM decoder (v2.27) overflows the heap on a 16-bit
// file (found by tests/fuzz, corpus/image/regress-pgm-16bit-heap-overflow.pgm).
#define STBI_ONLY_PNG
#define STBI_ONLY_BMP
#define STBI_ONLY_GIF
#include "stb_image.h"

namespace gemma3n {

namespace {

bool IsJpeg(absl::Span<const uint8_t> b) { return b.size() >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF; }

uint32_t BigEndian32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

// A PNG's width and height from its IHDR chunk (signature, length, "IHDR",
// width, height), read before stb: stb refuses very large headers with a
// generic message, and the size limit should be what the user hears.
std::optional<std::pair<int64_t, int64_t>> PngHeaderSize(absl::Span<const uint8_t> b) {
  static constexpr uint8_t kSignature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  if (b.size() < 24 || std::memcmp(b.data(), kSignature, 8) != 0 || std::memcmp(b.data() + 12, "IHDR", 4) != 0) {
    return std::nullopt;
  }
  return std::make_pair(int64_t{BigEndian32(b.data() + 16)}, int64_t{BigEndian32(b.data() + 20)});
}

// Whether every PNG chunk up to IEND fits in the data. stb grows its buffer
// to a chunk's declared length before reading it, so a 72-byte file
// declaring an 800 MB IDAT costs an 800 MB allocation (found by fuzz_image).
bool PngChunksFit(absl::Span<const uint8_t> b) {
  size_t pos = 8;  // after the signature
  while (pos + 8 <= b.size()) {
    const uint64_t length = BigEndian32(b.data() + pos);
    if (pos + 12 + length > b.size()) return false;  // length, type, data, CRC
    if (std::memcmp(b.data() + pos + 4, "IEND", 4) == 0) return true;
    pos += 12 + length;
  }
  return false;
}

uint32_t LittleEndian32(const uint8_t* p) {
  return uint32_t{p[0]} | (uint32_t{p[1]} << 8) | (uint32_t{p[2]} << 16) | (uint32_t{p[3]} << 24);
}

// Whether a BMP holds the pixel rows its header declares. stb refuses RLE
// (compression 1 and 2) and reads every other kind as uncompressed rows. stb fills missing rows and
// decodes them all, so a 39-byte file declaring 517 x 13824 pixels at 1 bit
// each cost 21 MB and half a second (found by fuzz_image). True when the
// header is too short to tell: stb refuses those itself.
bool BmpRowsFit(absl::Span<const uint8_t> b) {
  if (b.size() < 34 || b[0] != 'B' || b[1] != 'M' || LittleEndian32(b.data() + 14) < 40) return true;
  const uint64_t offset = LittleEndian32(b.data() + 10);
  const int64_t width = static_cast<int32_t>(LittleEndian32(b.data() + 18));
  const int64_t height = static_cast<int32_t>(LittleEndian32(b.data() + 22));
  const uint64_t bits = uint64_t{b[28]} | (uint64_t{b[29]} << 8);
  const uint32_t compression = LittleEndian32(b.data() + 30);
  if (compression == 1 || compression == 2 || width <= 0 || height == 0) return true;
  const uint64_t row_bytes = (static_cast<uint64_t>(width) * bits + 31) / 32 * 4;
  const uint64_t rows = static_cast<uint64_t>(height < 0 ? -height : height);
  return offset + row_bytes * rows <= b.size();
}

// Whether a GIF's data could fill the canvas its header declares. stb
// allocates and clears the canvas (9 bytes a pixel: the image, the
// background, the history) before the first frame, so a 73-byte file
// declaring 2053 x 20617 pixels cost 380 MB and 0.4 s (found by fuzz_image).
// LZW codes are at least 3 bits and none stands for more than 4096 pixels,
// so a GIF that fills its canvas never has more than 4096 * 8 / 3 pixels a
// byte; true when the header is too short to tell (stb refuses those).
bool GifCanvasFits(absl::Span<const uint8_t> b) {
  if (b.size() < 10 || std::memcmp(b.data(), "GIF8", 4) != 0) return true;
  const uint64_t width = uint64_t{b[6]} | (uint64_t{b[7]} << 8);
  const uint64_t height = uint64_t{b[8]} | (uint64_t{b[9]} << 8);
  return width * height * 3 <= uint64_t{4096} * 8 * b.size();
}

// Whether the data ends with the end-of-image marker (FF D9), allowing
// trailing padding: a truncated JPEG does not, and libjpeg only warns about it.
bool EndsWithJpegEoi(absl::Span<const uint8_t> b) {
  size_t end = b.size();
  while (end > 2 && b.size() - end < 64 && b[end - 1] == 0x00) --end;
  return end >= 2 && b[end - 2] == 0xFF && b[end - 1] == 0xD9;
}

absl::Status CheckSize(int64_t w, int64_t h, const ImageLimits& limits) {
  if (w <= 0 || h <= 0) return absl::InvalidArgumentError("image: the image has zero size");
  if (w > limits.max_side || h > limits.max_side || w * h > limits.max_pixels) {
    return absl::InvalidArgumentError(absl::StrCat("image: ", w, "x", h, " pixels is more than the limit of ",
                                                   limits.max_pixels, " pixels"));
  }
  return absl::OkStatus();
}

absl::StatusOr<RgbImage> DecodeJpeg(absl::Span<const uint8_t> bytes, const ImageLimits& limits) {
  std::unique_ptr<void, int (*)(tjhandle)> tj(tjInitDecompress(), tjDestroy);
  if (!tj) return absl::InternalError("image: cannot start the JPEG decoder");
  int w = 0, h = 0, subsampling = 0, colorspace = 0;
  if (tjDecompressHeader3(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), &w, &h, &subsampling,
                          &colorspace) != 0) {
    return absl::InvalidArgumentError(absl::StrCat("image: not a readable JPEG (", tjGetErrorStr2(tj.get()), ")"));
  }
  if (absl::Status s = CheckSize(w, h, limits); !s.ok()) return s;
  RgbImage image;
  image.width = w;
  image.height = h;
  image.pixels.resize(static_cast<size_t>(w) * h * 3);
  // libjpeg-turbo reports a truncated file as a warning (it fills the rest
  // with grey); other warnings (e.g. stray bytes between markers) are common
  // in real files and harmless.
  if (tjDecompress2(tj.get(), bytes.data(), static_cast<unsigned long>(bytes.size()), image.pixels.data(), w, 0, h,
                    TJPF_RGB, 0) != 0 &&
      (tjGetErrorCode(tj.get()) == TJERR_FATAL || !EndsWithJpegEoi(bytes))) {
    return absl::InvalidArgumentError(absl::StrCat("image: the JPEG is corrupt or truncated (",
                                                   tjGetErrorStr2(tj.get()), ")"));
  }
  return image;
}

}  // namespace

absl::StatusOr<RgbImage> DecodeImage(absl::Span<const uint8_t> bytes, const ImageLimits& limits) {
  if (bytes.empty()) return absl::InvalidArgumentError("image: the image data is empty");
  if (bytes.size() > static_cast<size_t>(INT32_MAX)) return absl::InvalidArgumentError("image: the file is too large");
  if (IsJpeg(bytes)) return DecodeJpeg(bytes, limits);
  if (const auto png = PngHeaderSize(bytes)) {
    if (absl::Status s = CheckSize(png->first, png->second, limits); !s.ok()) return s;
    if (!PngChunksFit(bytes)) return absl::InvalidArgumentError("image: the PNG is corrupt or truncated");
  }
  if (!BmpRowsFit(bytes)) return absl::InvalidArgumentError("image: the BMP is truncated (fewer rows than its size)");
  if (!GifCanvasFits(bytes)) return absl::InvalidArgumentError("image: the GIF is truncated (too few bytes for its size)");
  const int size = static_cast<int>(bytes.size());
  int w = 0, h = 0, channels = 0;
  if (!stbi_info_from_memory(bytes.data(), size, &w, &h, &channels)) {
    return absl::InvalidArgumentError(absl::StrCat("image: not a supported image (", stbi_failure_reason(),
                                                   "); send JPEG, PNG, BMP or GIF"));
  }
  if (absl::Status s = CheckSize(w, h, limits); !s.ok()) return s;
  std::unique_ptr<stbi_uc, void (*)(void*)> data(stbi_load_from_memory(bytes.data(), size, &w, &h, &channels, 3),
                                                 stbi_image_free);
  if (!data) {
    return absl::InvalidArgumentError(absl::StrCat("image: the image is corrupt or truncated (",
                                                   stbi_failure_reason(), ")"));
  }
  RgbImage image;
  image.width = w;
  image.height = h;
  image.pixels.assign(data.get(), data.get() + static_cast<size_t>(w) * h * 3);
  return image;
}

}  // namespace gemma3n
