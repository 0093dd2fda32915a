#include "text_worker/model/decoder_layer.h"

#include <cmath>

#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "text_worker/model/altup.h"
#include "text_worker/model/mlp.h"

namespace gemma3n {
namespace {

AttentionShape ShapeOf(const LayerSpec& spec, const TextConfig& c) {
  AttentionShape s;
  s.heads = c.num_attention_heads;
  s.kv_heads = c.num_key_value_heads;
  s.head_dim = c.head_dim;
  s.sliding = spec.attention == AttentionType::kSliding;
  s.window = c.sliding_window;
  return s;
}

// Per-head RmsNorm (with scale, or without when scale is null) and RoPE
// (when inv_freq is given, at each row's position) on rows [n, heads * head_dim].
void NormAndRotate(float* x, int64_t n, int heads, int64_t hd, const float* scale, float eps,
                   const std::vector<float>* inv_freq, const int64_t* positions) {
  RmsNorm(x, n * heads, hd, scale, eps, x);
  if (!inv_freq) return;
  for (int64_t t = 0; t < n; ++t) {
    for (int h = 0; h < heads; ++h) ApplyRope(x + (t * heads + h) * hd, hd, inv_freq->data(), positions[t]);
  }
}

// normed [n, hidden] -> attention output after o_proj [n, hidden].
// The projections run over all rows of the batch; storing K/V and attending
// run per sequence, against its own cache.
void SelfAttention(const LayerSpec& spec, const AttentionWeights& w, const TextConfig& c, const LayerInputs& in,
                   const float* normed, float* out) {
  const int64_t n = in.n, hd = c.head_dim;
  const AttentionShape shape = ShapeOf(spec, c);
  const int64_t q_row = shape.heads * hd, kv_row = shape.kv_heads * hd;
  std::vector<float> q(static_cast<size_t>(n * q_row));
  MatMul(*in.pool, normed, n, w.q_proj, q.data());
  NormAndRotate(q.data(), n, shape.heads, hd, w.q_norm.data(), c.rms_norm_eps, in.inv_freq, in.positions.data());

  if (!spec.kv_shared) {
    std::vector<float> k(static_cast<size_t>(n * kv_row)), v(static_cast<size_t>(n * kv_row));
    MatMul(*in.pool, normed, n, w.k_proj, k.data());
    MatMul(*in.pool, normed, n, w.v_proj, v.data());
    NormAndRotate(k.data(), n, shape.kv_heads, hd, w.k_norm.data(), c.rms_norm_eps, in.inv_freq,
                  in.positions.data());
    NormAndRotate(v.data(), n, shape.kv_heads, hd, nullptr, c.rms_norm_eps, nullptr, nullptr);  // v_norm: no scale
    for (const SequenceRows& s : in.seqs) {
      (*s.contexts)[spec.index] = StoreAndGather(*s.cache, spec.index, shape, s.p0, s.n, k.data() + s.row0 * kv_row,
                                                 v.data() + s.row0 * kv_row);
    }
  }
  std::vector<float> attn(q.size());
  for (const SequenceRows& s : in.seqs) {
    Attend(*in.pool, q.data() + s.row0 * q_row, s.p0, s.n, (*s.contexts)[spec.kv_source], shape, attn.data() + s.row0 * q_row);
  }
  MatMul(*in.pool, attn.data(), n, w.o_proj, out);
}

}  // namespace

void DecoderLayerForward(const LayerSpec& spec, const DecoderLayerWeights& w, const TextConfig& c,
                         const LayerInputs& in, std::vector<float>& streams) {
  const int64_t n = in.n, h = c.hidden_size, plane = n * h, N = c.altup_num_inputs;
  const float eps = c.rms_norm_eps;

  std::vector<float> pred(streams.size());
  AltUpPredict(*in.pool, w.altup, c, streams.data(), n, pred.data());
  const float* active = pred.data() + c.altup_active_idx * plane;  // [n, hidden]

  std::vector<float> normed(plane), laurel(plane), tmp(plane);
  RmsNorm(active, n, h, w.input_layernorm.data(), eps, normed.data());

  // LAuReL: a low-rank residual branch.
  std::vector<float> low(static_cast<size_t>(n * w.laurel.linear_left.rows));
  MatMul(*in.pool, normed.data(), n, w.laurel.linear_left, low.data());
  MatMul(*in.pool, low.data(), n, w.laurel.linear_right, laurel.data());
  RmsNorm(laurel.data(), n, h, w.laurel.post_norm.data(), eps, laurel.data());
  for (int64_t i = 0; i < plane; ++i) laurel[i] += normed[i];

  SelfAttention(spec, w.attn, c, in, normed.data(), tmp.data());
  RmsNorm(tmp.data(), n, h, w.post_attention_layernorm.data(), eps, tmp.data());
  const float inv_sqrt2 = static_cast<float>(1.0 / std::sqrt(2.0));
  std::vector<float> hidden(plane);  // (a + attn + laurel) / sqrt(2)
  for (int64_t i = 0; i < plane; ++i) hidden[i] = (active[i] + tmp[i] + laurel[i]) * inv_sqrt2;

  RmsNorm(hidden.data(), n, h, w.pre_feedforward_layernorm.data(), eps, normed.data());
  MlpForward(*in.pool, w.mlp, spec, normed.data(), n, tmp.data());
  RmsNorm(tmp.data(), n, h, w.post_feedforward_layernorm.data(), eps, tmp.data());
  for (int64_t i = 0; i < plane; ++i) hidden[i] += tmp[i];

  AltUpCorrect(*in.pool, w.altup, c, pred.data(), hidden.data(), n, streams.data());

  // Per-layer input: gate the (scaled) active stream, multiply by this
  // layer's per-layer embedding, project back and add to the other streams.
  const float* first = streams.data() + c.altup_active_idx * plane;
  for (int64_t i = 0; i < plane; ++i) {
    tmp[i] = c.altup_correct_scale ? first[i] * w.altup.correct_output_scale[i % h] : first[i];
  }
  const int64_t ple = w.per_layer_input_gate.rows;
  std::vector<float> gate(static_cast<size_t>(n * ple));
  MatMul(*in.pool, tmp.data(), n, w.per_layer_input_gate, gate.data());
  GeluTanh(gate.data(), n * ple);
  for (int64_t t = 0; t < n; ++t) {
    for (int64_t d = 0; d < ple; ++d) gate[t * ple + d] *= in.per_layer_input[t * in.per_layer_stride + d];
  }
  MatMul(*in.pool, gate.data(), n, w.per_layer_projection, tmp.data());
  RmsNorm(tmp.data(), n, h, w.post_per_layer_input_norm.data(), eps, tmp.data());
  for (int64_t s = 1; s < N; ++s) {
    float* dst = streams.data() + s * plane;
    for (int64_t i = 0; i < plane; ++i) dst[i] += tmp[i];
  }
}

}  // namespace gemma3n
