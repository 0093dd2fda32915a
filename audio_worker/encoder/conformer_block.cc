#include "audio_worker/encoder/conformer_block.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "absl/strings/str_cat.h"
#include "audio_worker/encoder/local_attention.h"
#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

void Clip(std::vector<float>& x, float limit) {
  for (float& v : x) v = std::clamp(v, -limit, limit);
}

float Silu(float v) { return v / (1.0f + std::exp(-v)); }

absl::Status LoadFfw(const Checkpoint& ckpt, const std::string& p, int64_t h, AudioFeedForwardWeights& w) {
  ASSIGN_OR_RETURN(w.pre_norm, LoadVector(ckpt, p + "pre_layer_norm.weight", h));
  ASSIGN_OR_RETURN(w.up, LoadWeightMatrix(ckpt, p + "ffw_layer_1.weight", 4 * h, h));
  ASSIGN_OR_RETURN(w.down, LoadWeightMatrix(ckpt, p + "ffw_layer_2.weight", h, 4 * h));
  ASSIGN_OR_RETURN(w.post_norm, LoadVector(ckpt, p + "post_layer_norm.weight", h));
  return absl::OkStatus();
}

// x += residual_weight * post_norm(clip(down(silu(up(pre_norm(clip(x)))))))
void FeedForward(ThreadPool& pool, const AudioFeedForwardWeights& w, const AudioEncoderConfig& c, std::vector<float>& x) {
  const int64_t h = c.hidden_size, t = static_cast<int64_t>(x.size()) / h;
  std::vector<float> y = x, up(static_cast<size_t>(t * 4 * h));
  Clip(y, c.gradient_clipping);
  RmsNorm(y.data(), t, h, w.pre_norm.data(), c.rms_norm_eps, y.data());
  MatMul(pool, y.data(), t, w.up, up.data());
  for (float& v : up) v = Silu(v);
  MatMul(pool, up.data(), t, w.down, y.data());
  Clip(y, c.gradient_clipping);
  RmsNorm(y.data(), t, h, w.post_norm.data(), c.rms_norm_eps, y.data());
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i] * c.residual_weight;
}

void Attention(ThreadPool& pool, const AudioAttentionWeights& w, const AudioEncoderConfig& c, const std::vector<uint8_t>& padding,
               std::vector<float>& x) {
  const int64_t h = c.hidden_size, t = static_cast<int64_t>(x.size()) / h;
  std::vector<float> y = x;
  Clip(y, c.gradient_clipping);
  RmsNorm(y.data(), t, h, w.pre_norm.data(), c.rms_norm_eps, y.data());
  std::vector<float> context = LocalAttention(pool, w, c, y, padding);
  MatMul(pool, context.data(), t, w.post, y.data());
  Clip(y, c.gradient_clipping);
  RmsNorm(y.data(), t, h, w.post_norm.data(), c.rms_norm_eps, y.data());
  for (size_t i = 0; i < x.size(); ++i) x[i] += y[i];
}

// x += linear_end(silu(conv_norm(clip(depthwise_causal(glu(linear_start(pre_norm(x))))))))
void LightConv(ThreadPool& pool, const LightConvWeights& w, const AudioEncoderConfig& c, std::vector<float>& x) {
  const int64_t h = c.hidden_size, t = static_cast<int64_t>(x.size()) / h, k = c.conv_kernel_size;
  std::vector<float> y(x.size()), wide(static_cast<size_t>(t * 2 * h));
  RmsNorm(x.data(), t, h, w.pre_norm.data(), c.rms_norm_eps, y.data());
  MatMul(pool, y.data(), t, w.linear_start, wide.data());
  std::vector<float> gated(x.size());
  for (int64_t s = 0; s < t; ++s) {
    for (int64_t d = 0; d < h; ++d) {
      const float a = wide[s * 2 * h + d], b = wide[s * 2 * h + h + d];
      gated[s * h + d] = a / (1.0f + std::exp(-b));  // GLU: a * sigmoid(b)
    }
  }
  for (int64_t s = 0; s < t; ++s) {  // causal: taps on frames s-k+1 .. s
    for (int64_t d = 0; d < h; ++d) {
      float acc = 0.0f;
      for (int64_t j = 0; j < k; ++j) {
        const int64_t src = s - (k - 1) + j;
        if (src >= 0) acc += w.depthwise[d * k + j] * gated[src * h + d];
      }
      y[s * h + d] = acc;
    }
  }
  Clip(y, c.gradient_clipping);
  RmsNorm(y.data(), t, h, w.conv_norm.data(), c.rms_norm_eps, y.data());
  for (float& v : y) v = Silu(v);
  MatMul(pool, y.data(), t, w.linear_end, gated.data());
  for (size_t i = 0; i < x.size(); ++i) x[i] += gated[i];
}

}  // namespace

absl::StatusOr<ConformerBlockWeights> LoadConformerBlock(const Checkpoint& ckpt, const AudioEncoderConfig& c,
                                                         int index) {
  const int64_t h = c.hidden_size, hd = h / c.num_heads;
  const std::string p = absl::StrCat("model.audio_tower.conformer.", index, ".");
  ConformerBlockWeights w;
  RETURN_IF_ERROR(LoadFfw(ckpt, p + "ffw_layer_start.", h, w.ffw_start));
  RETURN_IF_ERROR(LoadFfw(ckpt, p + "ffw_layer_end.", h, w.ffw_end));
  AudioAttentionWeights& a = w.attention;
  ASSIGN_OR_RETURN(a.pre_norm, LoadVector(ckpt, p + "attention.pre_attn_norm.weight", h));
  ASSIGN_OR_RETURN(a.post_norm, LoadVector(ckpt, p + "attention.post_norm.weight", h));
  ASSIGN_OR_RETURN(a.per_dim_scale, LoadVector(ckpt, p + "attention.attn.per_dim_scale", hd));
  ASSIGN_OR_RETURN(a.q, LoadWeightMatrix(ckpt, p + "attention.attn.q_proj.weight", h, h));
  ASSIGN_OR_RETURN(a.k, LoadWeightMatrix(ckpt, p + "attention.attn.k_proj.weight", h, h));
  ASSIGN_OR_RETURN(a.v, LoadWeightMatrix(ckpt, p + "attention.attn.v_proj.weight", h, h));
  ASSIGN_OR_RETURN(a.post, LoadWeightMatrix(ckpt, p + "attention.post.weight", h, h));
  ASSIGN_OR_RETURN(a.pos_proj,
                   LoadWeightMatrix(ckpt, p + "attention.attn.relative_position_embedding.pos_proj.weight", h, h));
  LightConvWeights& l = w.lconv;
  ASSIGN_OR_RETURN(l.pre_norm, LoadVector(ckpt, p + "lconv1d.pre_layer_norm.weight", h));
  ASSIGN_OR_RETURN(l.conv_norm, LoadVector(ckpt, p + "lconv1d.conv_norm.weight", h));
  ASSIGN_OR_RETURN(l.linear_start, LoadWeightMatrix(ckpt, p + "lconv1d.linear_start.weight", 2 * h, h));
  ASSIGN_OR_RETURN(l.linear_end, LoadWeightMatrix(ckpt, p + "lconv1d.linear_end.weight", h, h));
  ASSIGN_OR_RETURN(TensorInfo dw, ckpt.Get(p + "lconv1d.depthwise_conv1d.weight", {h, 1, c.conv_kernel_size}));
  l.depthwise = ToF32Vector(dw);
  ASSIGN_OR_RETURN(w.norm, LoadVector(ckpt, p + "norm.weight", h));
  return w;
}

void ConformerBlockForward(ThreadPool& pool, const ConformerBlockWeights& w, const AudioEncoderConfig& c,
                           const std::vector<uint8_t>& padding, std::vector<float>& x) {
  const int64_t h = c.hidden_size;
  FeedForward(pool, w.ffw_start, c, x);
  Attention(pool, w.attention, c, padding, x);
  for (size_t s = 0; s < padding.size(); ++s) {
    if (padding[s]) std::fill(x.begin() + s * h, x.begin() + (s + 1) * h, 0.0f);
  }
  LightConv(pool, w.lconv, c, x);
  FeedForward(pool, w.ffw_end, c, x);
  Clip(x, c.gradient_clipping);
  RmsNorm(x.data(), static_cast<int64_t>(padding.size()), h, w.norm.data(), c.rms_norm_eps, x.data());
}

}  // namespace gemma3n
