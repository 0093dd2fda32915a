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

using Shape = std::vector<int64_t>;
using C = AudioEncoderConfig;
using W = ConformerBlockWeights;

Shape Hidden(const C& c) { return {c.hidden_size}; }
Shape HeadDim(const C& c) { return {c.hidden_size / c.num_heads}; }
Shape Square(const C& c) { return {c.hidden_size, c.hidden_size}; }
Shape Widen4(const C& c) { return {4 * c.hidden_size, c.hidden_size}; }
Shape Narrow4(const C& c) { return {c.hidden_size, 4 * c.hidden_size}; }
Shape Widen2(const C& c) { return {2 * c.hidden_size, c.hidden_size}; }
Shape Depthwise(const C& c) { return {c.hidden_size, 1, c.conv_kernel_size}; }

// The slot of a member (path) of some weights.
template <class Weights, auto... Path>
WeightSlot In(Weights& w) {
  return &(w .* ... .* Path);
}

// One tensor after a prefix: its name, shape and slot in `Weights`.
template <class Weights>
struct TensorEntry {
  const char* name;
  Shape (*shape)(const C&);
  WeightSlot (*slot)(Weights&);
};
using F = AudioFeedForwardWeights;
using A = AudioAttentionWeights;
using L = LightConvWeights;

// Each of a block's two feed-forward modules, after "<block>.ffw_layer_start." / "ffw_layer_end.".
const TensorEntry<F> kFeedForwardTensors[] = {
    {"pre_layer_norm.weight", Hidden, In<F, &F::pre_norm>},
    {"ffw_layer_1.weight", Widen4, In<F, &F::up>},
    {"ffw_layer_2.weight", Narrow4, In<F, &F::down>},
    {"post_layer_norm.weight", Hidden, In<F, &F::post_norm>},
};
const std::pair<const char*, F W::*> kFeedForwards[] = {{"ffw_layer_start.", &W::ffw_start},
                                                       {"ffw_layer_end.", &W::ffw_end}};

// The rest of a block, after "model.audio_tower.conformer.N.".
const TensorEntry<W> kBlockTensors[] = {
    {"attention.attn.relative_position_embedding.pos_proj.weight", Square, In<W, &W::attention, &A::pos_proj>},
    {"attention.attn.q_proj.weight", Square, In<W, &W::attention, &A::q>},
    {"attention.attn.k_proj.weight", Square, In<W, &W::attention, &A::k>},
    {"attention.attn.v_proj.weight", Square, In<W, &W::attention, &A::v>},
    {"attention.post.weight", Square, In<W, &W::attention, &A::post>},
    {"lconv1d.linear_end.weight", Square, In<W, &W::lconv, &L::linear_end>},
    {"attention.pre_attn_norm.weight", Hidden, In<W, &W::attention, &A::pre_norm>},
    {"attention.post_norm.weight", Hidden, In<W, &W::attention, &A::post_norm>},
    {"lconv1d.pre_layer_norm.weight", Hidden, In<W, &W::lconv, &L::pre_norm>},
    {"lconv1d.conv_norm.weight", Hidden, In<W, &W::lconv, &L::conv_norm>},
    {"norm.weight", Hidden, In<W, &W::norm>},
    {"attention.attn.per_dim_scale", HeadDim, In<W, &W::attention, &A::per_dim_scale>},
    {"lconv1d.linear_start.weight", Widen2, In<W, &W::lconv, &L::linear_start>},
    {"lconv1d.depthwise_conv1d.weight", Depthwise, In<W, &W::lconv, &L::depthwise>},
};

void Clip(std::vector<float>& x, float limit) {
  for (float& v : x) v = std::clamp(v, -limit, limit);
}

float Silu(float v) { return v / (1.0f + std::exp(-v)); }

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

absl::Status ForEachConformerTensor(const AudioEncoderConfig& c, int index, ConformerBlockWeights& w,
                                    absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit) {
  const std::string p = absl::StrCat("model.audio_tower.conformer.", index, ".");
  for (const auto& [name, member] : kFeedForwards) {
    for (const TensorEntry<F>& t : kFeedForwardTensors) {
      RETURN_IF_ERROR(visit({p + name + t.name, t.shape(c), t.slot(w.*member)}));
    }
  }
  for (const TensorEntry<W>& t : kBlockTensors) RETURN_IF_ERROR(visit({p + t.name, t.shape(c), t.slot(w)}));
  return absl::OkStatus();
}

absl::StatusOr<ConformerBlockWeights> LoadConformerBlock(const Checkpoint& ckpt, const AudioEncoderConfig& c,
                                                         int index) {
  ConformerBlockWeights w;
  RETURN_IF_ERROR(ForEachConformerTensor(c, index, w, [&](const NamedWeightSlot& t) { return LoadIntoSlot(ckpt, t); }));
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
