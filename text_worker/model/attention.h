// Causal self-attention over a chunk of new tokens, with the sliding-window or
// full mask of the layer. Scores are unscaled (scaling 1.0: Gemma 3n's q_norm
// takes the place of 1/sqrt(head_dim)); no attention-logit soft-cap.
#pragma once

#include <cstdint>
#include <vector>

#include "common/kernels/thread_pool.h"
#include "text_worker/model/kv_cache.h"

namespace gemma3n {

struct AttentionShape {
  int heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  bool sliding = false;
  int window = 0;  // sliding: a query sees positions (pos - window, pos]
};

// The K/V rows one layer's queries may attend to in this forward chunk:
// row j holds position first_pos + j.
struct AttentionContext {
  int64_t first_pos = 0;
  int64_t count = 0;
  const float* k = nullptr;  // [count, kv_heads * head_dim]
  const float* v = nullptr;
  int64_t row = 0;           // kv_heads * head_dim
  std::vector<float> owned_k, owned_v;  // backing store when gathered from a ring
  // Read straight from a ring store instead (a one-token chunk: the row it
  // overwrites is one its query no longer sees).
  const KvCache* ring = nullptr;
  int ring_layer = -1;

  const float* KeyAt(int64_t pos) const { return ring ? ring->Key(ring_layer, pos) : k + (pos - first_pos) * row; }
  const float* ValueAt(int64_t pos) const {
    return ring ? ring->Value(ring_layer, pos) : v + (pos - first_pos) * row;
  }

  AttentionContext() = default;
  AttentionContext(const AttentionContext&) = delete;
  AttentionContext& operator=(const AttentionContext&) = delete;
  AttentionContext(AttentionContext&&) = default;
  AttentionContext& operator=(AttentionContext&&) = default;
};

// Stores the chunk's new K/V rows k_new/v_new [n, kv_row] for positions
// [p0, p0 + n) in `layer`'s cache and returns the context covering every
// position a query of the chunk can see. Rows a ring would overwrite are
// gathered first, so KV-shared layers can use the same context afterwards.
AttentionContext StoreAndGather(KvCache& cache, int layer, const AttentionShape& shape, int64_t p0, int64_t n,
                                const float* k_new, const float* v_new);

// q [n, heads * head_dim] for positions [p0, p0 + n) -> out [n, heads * head_dim].
void Attend(ThreadPool& pool, const float* q, int64_t p0, int64_t n, const AttentionContext& ctx, const AttentionShape& shape,
            float* out);

}  // namespace gemma3n
