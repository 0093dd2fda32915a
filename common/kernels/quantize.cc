#include "common/kernels/quantize.h"

#include <sys/mman.h>
#include <unistd.h>

#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {

absl::StatusOr<WeightFormat> ParseWeightFormat(const std::string& name) {
  if (name == "bf16") return WeightFormat::kBf16;
  if (name == "int8") return WeightFormat::kInt8;
  return absl::InvalidArgumentError(absl::StrCat("weight format '", name, "': choose bf16 or int8"));
}

const char* WeightFormatName(WeightFormat f) { return f == WeightFormat::kInt8 ? "int8" : "bf16"; }

namespace {

// Drops the resident pages of a read-only mapping range (they are the
// checkpoint file's: they come back from disk if ever read again).
void ReleaseMapped(const void* data, int64_t bytes) {
  const int64_t page = sysconf(_SC_PAGESIZE);
  const auto begin = (reinterpret_cast<uintptr_t>(data) + page - 1) / page * page;
  const auto end = (reinterpret_cast<uintptr_t>(data) + bytes) / page * page;
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_DONTNEED);
}

}  // namespace

absl::StatusOr<WeightMatrix> QuantizeInt8(const WeightMatrix& w, bool release_source) {
  if (w.format == WeightMatrix::Format::kInt8) return w;
  if (w.cols % kInt8Block != 0 || w.stride != w.cols) {
    return absl::InvalidArgumentError(absl::StrCat("cannot quantize a [", w.rows, ", ", w.cols,
                                                   "] matrix view: columns must be a whole multiple of ",
                                                   kInt8Block));
  }
  const int64_t blocks = w.cols / kInt8Block;
  auto q = std::make_shared<std::vector<int8_t>>(static_cast<size_t>(w.rows * w.cols));
  auto scales = std::make_shared<std::vector<float>>(static_cast<size_t>(w.rows * blocks));
  ThreadPool::Default().ParallelFor(w.rows, w.cols, 1 << 16, [&](int64_t r0, int64_t r1) {
    std::vector<float> row(static_cast<size_t>(w.cols));
    for (int64_t r = r0; r < r1; ++r) {
      w.RowToF32(r, row.data());
      for (int64_t b = 0; b < blocks; ++b) {
        const float* v = row.data() + b * kInt8Block;
        float max_abs = 0.0f;
        for (int64_t i = 0; i < kInt8Block; ++i) max_abs = std::max(max_abs, std::fabs(v[i]));
        const float scale = max_abs / 127.0f;
        const float inv = scale > 0.0f ? 1.0f / scale : 0.0f;
        (*scales)[r * blocks + b] = scale;
        int8_t* out = q->data() + r * w.cols + b * kInt8Block;
        for (int64_t i = 0; i < kInt8Block; ++i) out[i] = static_cast<int8_t>(std::lround(v[i] * inv));
      }
    }
  });
  if (release_source && w.format == WeightMatrix::Format::kBF16 && !w.owned) {
    ReleaseMapped(w.data, w.rows * w.stride * 2);
  }
  WeightMatrix out;
  out.format = WeightMatrix::Format::kInt8;
  out.rows = w.rows;
  out.cols = w.cols;
  out.stride = w.cols;
  out.data = q->data();
  out.scales = scales->data();
  out.owned_int8 = std::move(q);
  out.owned = std::move(scales);
  return out;
}

}  // namespace gemma3n
