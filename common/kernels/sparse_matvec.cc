#include "common/kernels/sparse_matvec.h"

#include <algorithm>

#include "common/kernels/matmul.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {
namespace {
// Columns of y per task of GatherRowsCombine: a multiple of the 32-weight
// block, so every task starts on a block of the int formats.
constexpr int64_t kCombineColumns = 256;
constexpr int64_t kMinParallelWork = 1 << 15;
}  // namespace

void GatherRowsMatVec(ThreadPool& pool, const float* x, const WeightMatrix& w, const int32_t* rows, int64_t count, float* y) {
  const DotKernels& k = Kernels();
  pool.ParallelFor(count, w.cols, kMinParallelWork, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) y[j] = DotRow(k, x, w, rows[j]);
  });
}

void GatherRowsCombine(ThreadPool& pool, const float* a, const WeightMatrix& wt, const int32_t* rows, int64_t count, float* y) {
  const DotKernels& k = Kernels();
  const int64_t tasks = (wt.cols + kCombineColumns - 1) / kCombineColumns;
  pool.ParallelFor(tasks, count * kCombineColumns, kMinParallelWork, [&](int64_t t0, int64_t t1) {
    const int64_t c0 = t0 * kCombineColumns, c1 = std::min(wt.cols, t1 * kCombineColumns);
    std::fill(y + c0, y + c1, 0.0f);
    for (int64_t j = 0; j < count; ++j) AxpyRow(k, a[j], wt, rows[j], c0, c1, y);
  });
}

}  // namespace gemma3n
