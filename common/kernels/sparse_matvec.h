// The FFN of Gemma 3n's activation-sparse layers, computed on the channels
// that survive: after the Gaussian top-k cut about 5% of the gate
// activations are non-zero, and a zero activation contributes nothing to
// down(gelu(gate) * up). So only those channels' up-projection rows are
// needed, and only those columns of the down projection, kept transposed
// (wt [ffn, hidden]) so that each is one contiguous row. For one token this
// reads ~5% of up and down instead of all of them.
#pragma once

#include <cstdint>

#include "common/kernels/thread_pool.h"
#include "common/kernels/weight_matrix.h"

namespace gemma3n {

// y[j] = x . w[rows[j]] for j < count (x [w.cols], y [count]).
void GatherRowsMatVec(ThreadPool& pool, const float* x, const WeightMatrix& w, const int32_t* rows, int64_t count, float* y);

// y = sum_j a[j] * wt[rows[j]] (y [wt.cols], overwritten).
void GatherRowsCombine(ThreadPool& pool, const float* a, const WeightMatrix& wt, const int32_t* rows, int64_t count, float* y);

}  // namespace gemma3n
