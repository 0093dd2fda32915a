#include "audio_worker/encoder/local_attention.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"

namespace gemma3n {
namespace {

// [span, hidden]: pos_proj of the sinusoidal signal of relative distances
// max_backward, ..., -max_forward (row f is distance max_backward - f).
std::vector<float> RelativePositionEmbedding(ThreadPool& pool, const AudioAttentionWeights& w, const AudioEncoderConfig& c,
                                             int max_backward, int max_forward) {
  const int h = c.hidden_size, timescales = h / 2, span = max_backward + max_forward + 1;
  const float increment = static_cast<float>(std::log(1.0e4) / std::max(timescales - 1, 1));
  std::vector<float> signal(static_cast<size_t>(span) * h);
  for (int f = 0; f < span; ++f) {
    const float pos = static_cast<float>(max_backward - f);
    for (int i = 0; i < timescales; ++i) {
      const float scaled = pos * std::exp(static_cast<float>(i) * -increment);
      signal[f * h + i] = std::sin(scaled);
      signal[f * h + timescales + i] = std::cos(scaled);
    }
  }
  std::vector<float> emb(static_cast<size_t>(span) * h);
  MatMul(pool, signal.data(), span, w.pos_proj, emb.data());
  return emb;
}

}  // namespace

std::vector<float> LocalAttention(ThreadPool& pool, const AudioAttentionWeights& w, const AudioEncoderConfig& c,
                                  const std::vector<float>& x, const std::vector<uint8_t>& padding) {
  const int64_t h = c.hidden_size, t = static_cast<int64_t>(x.size()) / h;
  const int heads = c.num_heads, hd = static_cast<int>(h / heads);
  const int chunk = c.chunk_size, past = std::max(0, c.context_left - 1), future = c.context_right;
  const int context = chunk + past + future, span = past + future + 1;

  std::vector<float> q(x.size()), k(x.size()), v(x.size());
  MatMul(pool, x.data(), t, w.q, q.data());
  MatMul(pool, x.data(), t, w.k, k.data());
  MatMul(pool, x.data(), t, w.v, v.data());
  const float softplus0 = std::log(2.0f);
  std::vector<float> q_scale(hd);
  for (int d = 0; d < hd; ++d) {
    const float sp = std::log1p(std::exp(w.per_dim_scale[d]));
    q_scale[d] = (1.0f / std::sqrt(static_cast<float>(hd))) * (1.0f / softplus0) * sp;
  }
  for (int64_t i = 0; i < t * h; ++i) q[i] *= q_scale[i % hd];
  const std::vector<float> rel = RelativePositionEmbedding(pool, w, c, past, future);

  std::vector<float> out(x.size(), 0.0f), logits(context);
  std::vector<uint8_t> allowed(context);
  const float cap = c.attention_logit_cap;
  for (int64_t pos = 0; pos < t; ++pos) {
    const int64_t block_start = pos / chunk * chunk;
    const int w_in_block = static_cast<int>(pos - block_start);
    const int64_t first_key = block_start - past;  // key position of context slot 0
    for (int n = 0; n < heads; ++n) {
      const float* qv = q.data() + pos * h + n * hd;
      bool any = false;
      for (int slot = 0; slot < context; ++slot) {
        const int64_t key = first_key + slot;
        const bool in_range = key >= 0 && key < t;
        const bool causal = slot >= w_in_block && slot <= w_in_block + past + future;
        allowed[slot] = in_range && !padding[key] && causal;
        any |= allowed[slot] != 0;
        float logit = 0.0f;
        if (in_range) {
          const float* kv = k.data() + key * h + n * hd;
          for (int d = 0; d < hd; ++d) logit += qv[d] * kv[d];
        }
        const int f = slot - w_in_block;  // relative-position row after the reference's shift
        if (f >= 0 && f < span) {
          const float* e = rel.data() + static_cast<int64_t>(f) * h + n * hd;
          for (int d = 0; d < hd; ++d) logit += qv[d] * e[d];
        }
        logits[slot] = cap * std::tanh(logit / cap);
      }
      if (any) {
        for (int slot = 0; slot < context; ++slot) {
          if (!allowed[slot]) logits[slot] = -std::numeric_limits<float>::infinity();
        }
        SoftmaxRow(logits.data(), context);
      } else {
        std::fill(logits.begin(), logits.end(), 1.0f / context);
      }
      float* o = out.data() + pos * h + n * hd;
      for (int slot = 0; slot < context; ++slot) {
        const int64_t key = first_key + slot;
        if (logits[slot] == 0.0f || key < 0 || key >= t) continue;  // padded context rows are zeros
        const float* vv = v.data() + key * h + n * hd;
        for (int d = 0; d < hd; ++d) o[d] += logits[slot] * vv[d];
      }
    }
  }
  return out;
}

}  // namespace gemma3n
