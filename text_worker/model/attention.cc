#include "text_worker/model/attention.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/simd/dot_kernels.h"
#include "common/kernels/thread_pool.h"

namespace gemma3n {

AttentionContext StoreAndGather(KvCache& cache, int layer, const AttentionShape& shape, int64_t p0, int64_t n,
                                const float* k_new, const float* v_new) {
  const int64_t row = static_cast<int64_t>(shape.kv_heads) * shape.head_dim;
  AttentionContext ctx;
  ctx.row = row;
  if (!cache.IsRing(layer)) {
    cache.Write(layer, p0, k_new, v_new, n);
    ctx.first_pos = 0;
    ctx.count = p0 + n;
    ctx.k = cache.Key(layer, 0);
    ctx.v = cache.Value(layer, 0);
    return ctx;
  }
  // Ring: the oldest position any query of the chunk sees is p0 - (window - 1).
  const int64_t first = std::max<int64_t>(0, p0 - (shape.window - 1));
  ctx.first_pos = first;
  ctx.count = p0 + n - first;
  if (n == 1) {
    // Decoding: the new row replaces position p0 - window, which the query
    // at p0 does not see; read the ring in place, no copy of the window.
    cache.Write(layer, p0, k_new, v_new, 1);
    ctx.ring = &cache;
    ctx.ring_layer = layer;
    return ctx;
  }
  ctx.owned_k.resize(static_cast<size_t>(ctx.count * row));
  ctx.owned_v.resize(static_cast<size_t>(ctx.count * row));
  for (int64_t pos = first; pos < p0; ++pos) {
    std::memcpy(ctx.owned_k.data() + (pos - first) * row, cache.Key(layer, pos), sizeof(float) * row);
    std::memcpy(ctx.owned_v.data() + (pos - first) * row, cache.Value(layer, pos), sizeof(float) * row);
  }
  std::memcpy(ctx.owned_k.data() + (p0 - first) * row, k_new, sizeof(float) * n * row);
  std::memcpy(ctx.owned_v.data() + (p0 - first) * row, v_new, sizeof(float) * n * row);
  ctx.k = ctx.owned_k.data();
  ctx.v = ctx.owned_v.data();
  cache.Write(layer, p0, k_new, v_new, n);
  return ctx;
}

void Attend(ThreadPool& pool, const float* q, int64_t p0, int64_t n, const AttentionContext& ctx, const AttentionShape& shape,
            float* out) {
  const int64_t hd = shape.head_dim;
  const int64_t q_row = static_cast<int64_t>(shape.heads) * hd;
  const int group = shape.heads / shape.kv_heads;
  // A task is one token and one KV head with the `group` query heads that
  // share it: each K and V row is streamed from memory once for all of them
  // (at long context the rows do not stay in cache between heads, and a task
  // per query head read them `group` times). Every head's scores and output
  // are summed in the same order as one head alone.
  // Work per task: about two passes over the visible keys per query head.
  const int64_t per_task = 2 * hd * group * std::min<int64_t>(ctx.count, shape.sliding ? shape.window : ctx.count);
  const auto axpy = Kernels().axpy_f32;
  pool.ParallelFor(n * shape.kv_heads, per_task, 1 << 16, [&](int64_t begin, int64_t end) {
    std::vector<float> scores;  // [group, count]
    for (int64_t task = begin; task < end; ++task) {
      const int64_t t = task / shape.kv_heads;
      const int kvh = static_cast<int>(task % shape.kv_heads);
      const int64_t pos = p0 + t;
      int64_t lo = ctx.first_pos;
      if (shape.sliding) lo = std::max(lo, pos - shape.window + 1);
      const int64_t count = pos - lo + 1;  // keys lo..pos inclusive
      const float* qv = q + t * q_row + static_cast<int64_t>(kvh) * group * hd;  // [group, hd]
      scores.resize(static_cast<size_t>(group * count));
      for (int64_t j = 0; j < count; ++j) {
        const float* kv = ctx.KeyAt(lo + j) + kvh * hd;
        for (int g = 0; g < group; ++g) scores[g * count + j] = DotF32(qv + g * hd, kv, hd);
      }
      for (int g = 0; g < group; ++g) SoftmaxRow(scores.data() + g * count, count);
      float* o = out + t * q_row + static_cast<int64_t>(kvh) * group * hd;  // [group, hd]
      std::fill(o, o + group * hd, 0.0f);
      // o_g += p_gj * v_j, vectorised over the head dimension (each element
      // still sums over j in order).
      for (int64_t j = 0; j < count; ++j) {
        const float* vv = ctx.ValueAt(lo + j) + kvh * hd;
        for (int g = 0; g < group; ++g) axpy(scores[g * count + j], vv, hd, o + g * hd);
      }
    }
  });
}

}  // namespace gemma3n
