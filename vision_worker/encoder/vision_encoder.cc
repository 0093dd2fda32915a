#include "vision_worker/encoder/vision_encoder.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/thread_pool.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "vision_worker/encoder/builtin_specs.h"

namespace gemma3n {
namespace {

constexpr char kVisionEmbedderPrefix[] = "model.embed_vision.";

void AddScaled(FeatureMap& x, const FeatureMap& shortcut) {
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] += shortcut.data[i];
}

void LayerScale(FeatureMap& x, const std::vector<float>& gamma) {
  if (gamma.empty()) return;
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] *= gamma[i % x.c];
}

// er: conv_exp (k x k) -> norm + GELU -> conv_pwl (1x1) -> norm.
FeatureMap EdgeResidual(ThreadPool& pool, const VisionBlockWeights& w, float eps, const FeatureMap& x) {
  const VisionBlockSpec& b = w.spec;
  FeatureMap y = Conv2dSame(pool, x, w.conv_exp, b.mid_chs, b.exp_kernel, b.stride);
  RmsNorm2d(y, w.bn1, eps, /*gelu=*/true);
  y = Pointwise(pool, y, w.conv_pwl);
  RmsNorm2d(y, w.bn2, eps, false);
  return y;
}

// uir: [dw_start] -> pw_exp + GELU -> [dw_mid + GELU] -> pw_proj, each normed.
FeatureMap UniversalInvertedResidual(ThreadPool& pool, const VisionBlockWeights& w, float eps, const FeatureMap& x) {
  const VisionBlockSpec& b = w.spec;
  FeatureMap y = x;
  if (b.dw_start_kernel > 0) {
    y = DepthwiseConv2dSame(pool, y, w.dw_start, b.dw_start_kernel, b.dw_start_stride);
    RmsNorm2d(y, w.dw_start_bn, eps, false);
  }
  y = Pointwise(pool, y, w.pw_exp);
  RmsNorm2d(y, w.pw_exp_bn, eps, true);
  if (b.dw_mid_kernel > 0) {
    y = DepthwiseConv2dSame(pool, y, w.dw_mid, b.dw_mid_kernel, b.dw_mid_stride);
    RmsNorm2d(y, w.dw_mid_bn, eps, true);
  }
  y = Pointwise(pool, y, w.pw_proj);
  RmsNorm2d(y, w.pw_proj_bn, eps, false);
  return y;
}

// Per head, as matrix products: P = softmax((q * scale) k^T) [rows, hw];
// o_head = P v [rows, vd]. q [rows, heads * kd], k [hw, kd] and v [hw, vd]
// shared by the heads; o [rows, heads * vd].
void AttendHeads(ThreadPool& pool, const VisionBlockSpec& b, const FeatureMap& q, const FeatureMap& k,
                 const FeatureMap& v, FeatureMap& o) {
  const int64_t hw = k.pixels(), kd = b.key_dim, vd = b.value_dim, rows = q.pixels();
  std::vector<float> scaled_q = q.data, probs(static_cast<size_t>(rows * hw));
  for (float& x : scaled_q) x *= b.attn_scale;
  for (int head = 0; head < b.num_heads; ++head) {
    ParallelSgemm(pool, /*trans_b=*/true, rows, hw, kd, scaled_q.data() + head * kd, q.c, k.data.data(), kd, probs.data(),
                  hw);
    pool.ParallelFor(rows, hw, 1 << 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) SoftmaxRow(probs.data() + r * hw, hw);
    });
    ParallelSgemm(pool, /*trans_b=*/false, rows, vd, hw, probs.data(), hw, v.data.data(), vd, o.data.data() + head * vd,
                  o.c);
  }
}

// mqa: norm -> query; keys and values from the (strided, normed) map, one
// head shared -> attention -> output projection.
FeatureMap MultiQueryAttention(ThreadPool& pool, const VisionBlockWeights& w, float eps, const FeatureMap& x) {
  const VisionBlockSpec& b = w.spec;
  FeatureMap n = x;
  RmsNorm2d(n, w.norm, eps, false);
  const FeatureMap q = Pointwise(pool, n, w.query);  // [HW, heads * kd]
  FeatureMap kv_in_k = n, kv_in_v = n;
  if (b.kv_stride > 1) {
    kv_in_k = DepthwiseConv2dSame(pool, n, w.key_down, b.kv_dw_kernel, b.kv_stride);
    RmsNorm2d(kv_in_k, w.key_norm, eps, false);
    kv_in_v = DepthwiseConv2dSame(pool, n, w.value_down, b.kv_dw_kernel, b.kv_stride);
    RmsNorm2d(kv_in_v, w.value_norm, eps, false);
  }
  const FeatureMap k = Pointwise(pool, kv_in_k, w.key);    // [hw, kd], one head shared
  const FeatureMap v = Pointwise(pool, kv_in_v, w.value);  // [hw, vd]
  FeatureMap o;
  o.h = x.h;
  o.w = x.w;
  o.c = b.num_heads * b.value_dim;
  o.data.assign(static_cast<size_t>(o.pixels()) * o.c, 0.0f);
  AttendHeads(pool, b, q, k, v, o);
  return Pointwise(pool, o, w.output);
}

FeatureMap RunBlock(ThreadPool& pool, const VisionBlockWeights& w, float eps, const FeatureMap& x) {
  FeatureMap y;
  switch (w.spec.type) {
    case VisionBlockSpec::Type::kEdgeResidual: y = EdgeResidual(pool, w, eps, x); break;
    case VisionBlockSpec::Type::kUniversalInvertedResidual: y = UniversalInvertedResidual(pool, w, eps, x); break;
    case VisionBlockSpec::Type::kMultiQueryAttention: y = MultiQueryAttention(pool, w, eps, x); break;
  }
  LayerScale(y, w.gamma);
  if (w.spec.has_skip) AddScaled(y, x);
  return y;
}

// InvalidArgument unless the network takes an input of h x w with `values` values.
absl::Status CheckInput(const VisionSpec& s, int h, int w, size_t values) {
  // The fused high-resolution map is the input / (input_h / msfa_high_h); it
  // must pool evenly to the output grid.
  const int reduction = s.input_h / s.msfa_high_h;
  if (h % reduction != 0 || w % reduction != 0 || (h / reduction) % s.out_h != 0 || (w / reduction) % s.out_w != 0) {
    return absl::InvalidArgumentError(absl::StrCat("vision input size ", h, "x", w, " is not supported: it must be a "
                                                   "multiple of ", reduction * s.out_h, " (e.g. ", s.input_h, ")"));
  }
  if (values != static_cast<size_t>(s.in_chans) * h * w) {
    return absl::InvalidArgumentError(absl::StrCat("vision input must be [", s.in_chans, ", ", h, ", ", w, "], got ",
                                                   values, " values"));
  }
  return absl::OkStatus();
}

// pixels NCHW [c, h, w] -> [h, w, c].
FeatureMap ChannelsLast(const std::vector<float>& pixels, int channels, int h, int w) {
  FeatureMap x;
  x.h = h;
  x.w = w;
  x.c = channels;
  x.data.resize(pixels.size());
  for (int c = 0; c < x.c; ++c)
    for (int i = 0; i < x.h * x.w; ++i) x.data[static_cast<size_t>(i) * x.c + c] = pixels[static_cast<size_t>(c) * x.h * x.w + i];
  return x;
}

// Multi-scale fusion input: the chosen stages brought to the resolution of
// the first (the highest), channels concatenated.
FeatureMap ConcatStages(const VisionSpec& s, const std::vector<FeatureMap>& stage_out) {
  FeatureMap fused;
  fused.h = stage_out[s.msfa_stages[0]].h;
  fused.w = stage_out[s.msfa_stages[0]].w;
  fused.c = 0;
  std::vector<FeatureMap> parts;
  for (int stage : s.msfa_stages) {
    const FeatureMap& f = stage_out[stage];
    parts.push_back(f.h < fused.h || f.w < fused.w ? ResizeNearest(f, fused.h, fused.w) : f);
    fused.c += parts.back().c;
  }
  fused.data.resize(static_cast<size_t>(fused.pixels()) * fused.c);
  for (int64_t pix = 0; pix < fused.pixels(); ++pix) {
    float* dst = fused.data.data() + pix * fused.c;
    for (const FeatureMap& f : parts) dst = std::copy_n(f.data.data() + pix * f.c, f.c, dst);
  }
  return fused;
}

// The fusion adapter's FFN, pooled to the output grid, normed: [out_h, out_w, msfa_out].
FeatureMap FusionAdapter(ThreadPool& pool, const VisionSpec& s, const VisionTowerWeights& w, const FeatureMap& fused) {
  FeatureMap y = Pointwise(pool, fused, w.msfa_exp);
  RmsNorm2d(y, w.msfa_exp_norm, s.norm_eps, true);
  y = Pointwise(pool, y, w.msfa_proj);
  RmsNorm2d(y, w.msfa_proj_norm, s.norm_eps, false);
  if (y.h != s.out_h || y.w != s.out_w) y = AvgPool(y, y.h / s.out_h, y.h / s.out_h);  // sizes checked (CheckInput)
  RmsNorm2d(y, w.msfa_norm, s.norm_eps, false);
  return y;
}

}  // namespace

std::vector<NamedShape> VisionTowerTensorShapes(const VisionSpec& s, const EmbedderVocab& vocab,
                                                       int text_hidden) {
  std::vector<NamedShape> out;
  VisionTowerWeights scratch;
  (void)ForEachVisionTensor(s, scratch, [&](const NamedWeightSlot& t) {
    out.push_back({t.name, t.shape});
    return absl::OkStatus();
  });
  for (NamedShape& t : MultimodalEmbedder::TensorShapes(kVisionEmbedderPrefix, vocab, text_hidden)) {
    out.push_back(std::move(t));
  }
  return out;
}

absl::StatusOr<std::unique_ptr<VisionEncoder>> VisionEncoder::Load(const std::string& model_dir, ThreadPool* pool) {
  auto e = std::unique_ptr<VisionEncoder>(new VisionEncoder());
  e->threads_ = std::make_unique<ModelThreads>(pool);
  e->pool_ = &e->threads_->pool();
  ASSIGN_OR_RETURN(e->ckpt_, Checkpoint::Open(model_dir, {"model.vision_tower.", kVisionEmbedderPrefix}));
  const nlohmann::json& config = e->ckpt_->config();
  auto vision = config.find("vision_config");
  if (vision == config.end() || !vision->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(model_dir, "/config.json has no vision_config"));
  }
  // A block_spec in the config overrides the built-in spec of the architecture.
  auto spec = vision->find("block_spec");
  if (spec != vision->end()) {
    ASSIGN_OR_RETURN(e->spec_, ParseVisionSpec(*spec));
  } else {
    ASSIGN_OR_RETURN(nlohmann::json builtin, BuiltinVisionSpec(StringFieldOr(*vision, "architecture", "")));
    ASSIGN_OR_RETURN(e->spec_, ParseVisionSpec(builtin));
  }
  const VisionSpec& s = e->spec_;
  const Checkpoint& ck = *e->ckpt_;
  RETURN_IF_ERROR(ForEachVisionTensor(s, e->weights_, [&](const NamedWeightSlot& t) { return LoadIntoSlot(ck, t); }));

  ASSIGN_OR_RETURN(EmbedderVocab vocab, ParseEmbedderVocab(*vision));
  const nlohmann::json* text = ObjectField(config, "text_config");
  const int text_hidden = text ? FieldOr<int>(*text, "hidden_size", 0) : 0;
  if (text_hidden <= 0) return absl::InvalidArgumentError("config: text_config.hidden_size is missing");
  if (vocab.hidden_size != s.msfa_out) {
    return absl::InvalidArgumentError(absl::StrCat("vision_config.hidden_size ", vocab.hidden_size,
                                                   " differs from the tower's output width ", s.msfa_out));
  }
  ASSIGN_OR_RETURN(e->embedder_, MultimodalEmbedder::Load(ck, kVisionEmbedderPrefix, vocab, text_hidden, *e->pool_));
  spdlog::info("loaded vision tower from {}: {} stages, {}x{} input, {} soft tokens", model_dir, s.stages.size(),
               s.input_h, s.input_w, s.out_h * s.out_w);
  return e;
}

absl::StatusOr<VisionEncoding> VisionEncoder::Encode(const std::vector<float>& pixels, bool keep_stages,
                                                     int size) const {
  const VisionSpec& s = spec_;
  const int h = size > 0 ? size : s.input_h, w = size > 0 ? size : s.input_w;
  RETURN_IF_ERROR(CheckInput(s, h, w, pixels.size()));
  VisionEncoding out;
  FeatureMap x = ChannelsLast(pixels, s.in_chans, h, w);
  x = Conv2dSame(*pool_, x, weights_.stem_kernel, s.stem_out, s.stem_kernel, s.stem_stride, &weights_.stem_bias);
  RmsNorm2d(x, weights_.stem_norm, s.norm_eps, true);
  if (keep_stages) out.stages["conv_stem"] = x;
  std::vector<FeatureMap> stage_out;
  for (const auto& stage : weights_.blocks) {
    for (const VisionBlockWeights& b : stage) {
      x = RunBlock(*pool_, b, s.norm_eps, x);
      if (keep_stages) out.stages[b.spec.key_prefix] = x;
    }
    stage_out.push_back(x);
  }
  const FeatureMap y = FusionAdapter(*pool_, s, weights_, ConcatStages(s, stage_out));
  out.features = y;
  // Soft tokens: the map's pixels in row-major order, scaled by sqrt(C).
  std::vector<float> scaled = y.data;
  const float scale = std::sqrt(static_cast<float>(y.c));
  for (float& v : scaled) v *= scale;
  out.soft_tokens.resize(static_cast<size_t>(y.pixels()) * embedder_->text_hidden_size());
  embedder_->EmbedSoft(scaled.data(), y.pixels(), out.soft_tokens.data());
  return out;
}

}  // namespace gemma3n
