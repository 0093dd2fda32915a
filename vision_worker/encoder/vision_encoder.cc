#include "vision_worker/encoder/vision_encoder.h"


#include <cmath>

#include "absl/strings/str_cat.h"
#include "common/kernels/matmul.h"
#include "common/kernels/ops.h"
#include "common/kernels/thread_pool.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "vision_worker/encoder/builtin_specs.h"

namespace gemma3n {

// One block's weights; unused fields stay empty for the other block types.
struct VisionEncoder::Block {
  VisionBlockSpec spec;
  // er
  std::vector<float> conv_exp, bn1, bn2;
  WeightMatrix conv_pwl;
  // uir
  std::vector<float> dw_start, dw_start_bn, pw_exp_bn, dw_mid, dw_mid_bn, pw_proj_bn;
  WeightMatrix pw_exp, pw_proj;
  // mqa
  std::vector<float> norm, key_down, key_norm, value_down, value_norm;
  WeightMatrix query, key, value, output;
  std::vector<float> gamma;  // layer scale
};

VisionEncoder::VisionEncoder() = default;
VisionEncoder::~VisionEncoder() = default;

namespace {

// A 1x1 convolution [out, in, 1, 1] as the matrix [out, in].
absl::StatusOr<WeightMatrix> LoadPointwise(const Checkpoint& ckpt, const std::string& name, int64_t out, int64_t in) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, {out, in, 1, 1}));
  WeightMatrix w;
  w.rows = out;
  w.cols = in;
  w.stride = in;
  if (t.dtype == DType::kBF16) {
    w.format = WeightMatrix::Format::kBF16;
    w.data = t.data;
    return w;
  }
  w.owned = std::make_shared<std::vector<float>>(t.NumElements());
  RETURN_IF_ERROR(CopyToF32(t, absl::MakeSpan(*w.owned)));
  w.data = w.owned->data();
  return w;
}

void AddScaled(FeatureMap& x, const FeatureMap& shortcut) {
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] += shortcut.data[i];
}

void LayerScale(FeatureMap& x, const std::vector<float>& gamma) {
  if (gamma.empty()) return;
  for (size_t i = 0; i < x.data.size(); ++i) x.data[i] *= gamma[i % x.c];
}

}  // namespace

std::vector<NamedShape> VisionTowerTensorShapes(const VisionSpec& s, const EmbedderVocab& vocab,
                                                       int text_hidden) {
  std::vector<NamedShape> out;
  const std::string p = s.weights_prefix;
  const auto pw = [&](const std::string& name, int64_t o, int64_t i) { out.push_back({name, {o, i, 1, 1}}); };
  const auto vec = [&](const std::string& name, int64_t n) { out.push_back({name, {n}}); };
  out.push_back({p + "conv_stem.conv.weight", {s.stem_out, s.in_chans, s.stem_kernel, s.stem_kernel}});
  vec(p + "conv_stem.conv.bias", s.stem_out);
  vec(p + "conv_stem.bn.weight", s.stem_out);
  for (const auto& stage : s.stages) {
    for (const VisionBlockSpec& b : stage) {
      const std::string k = p + b.key_prefix + ".";
      switch (b.type) {
        case VisionBlockSpec::Type::kEdgeResidual:
          out.push_back({k + "conv_exp.weight", {b.mid_chs, b.in_chs, b.exp_kernel, b.exp_kernel}});
          vec(k + "bn1.weight", b.mid_chs);
          pw(k + "conv_pwl.weight", b.out_chs, b.mid_chs);
          vec(k + "bn2.weight", b.out_chs);
          break;
        case VisionBlockSpec::Type::kUniversalInvertedResidual:
          if (b.dw_start_kernel > 0) {
            out.push_back({k + "dw_start.conv.weight", {b.in_chs, 1, b.dw_start_kernel, b.dw_start_kernel}});
            vec(k + "dw_start.bn.weight", b.in_chs);
          }
          pw(k + "pw_exp.conv.weight", b.mid_chs, b.in_chs);
          vec(k + "pw_exp.bn.weight", b.mid_chs);
          if (b.dw_mid_kernel > 0) {
            out.push_back({k + "dw_mid.conv.weight", {b.mid_chs, 1, b.dw_mid_kernel, b.dw_mid_kernel}});
            vec(k + "dw_mid.bn.weight", b.mid_chs);
          }
          pw(k + "pw_proj.conv.weight", b.out_chs, b.mid_chs);
          vec(k + "pw_proj.bn.weight", b.out_chs);
          break;
        case VisionBlockSpec::Type::kMultiQueryAttention:
          vec(k + "norm.weight", b.in_chs);
          pw(k + "attn.query.proj.weight", b.num_heads * b.key_dim, b.in_chs);
          pw(k + "attn.key.proj.weight", b.key_dim, b.in_chs);
          pw(k + "attn.value.proj.weight", b.value_dim, b.in_chs);
          pw(k + "attn.output.proj.weight", b.out_chs, b.num_heads * b.value_dim);
          if (b.kv_stride > 1) {
            for (const char* kv : {"key", "value"}) {
              out.push_back({k + "attn." + kv + ".down_conv.weight", {b.in_chs, 1, b.kv_dw_kernel, b.kv_dw_kernel}});
              vec(k + "attn." + kv + ".norm.weight", b.in_chs);
            }
          }
          break;
      }
      if (b.layer_scale) vec(k + "layer_scale.gamma", b.out_chs);
    }
  }
  pw(p + "msfa.ffn.pw_exp.conv.weight", s.msfa_mid, s.msfa_in);
  vec(p + "msfa.ffn.pw_exp.bn.weight", s.msfa_mid);
  pw(p + "msfa.ffn.pw_proj.conv.weight", s.msfa_out, s.msfa_mid);
  vec(p + "msfa.ffn.pw_proj.bn.weight", s.msfa_out);
  vec(p + "msfa.norm.weight", s.msfa_out);
  out.push_back({"model.embed_vision.embedding.weight", {vocab.vocab_size, vocab.hidden_size}});
  vec("model.embed_vision.hard_embedding_norm.weight", vocab.hidden_size);
  vec("model.embed_vision.soft_embedding_norm.weight", vocab.hidden_size);
  out.push_back({"model.embed_vision.embedding_projection.weight", {text_hidden, vocab.hidden_size}});
  return out;
}

absl::StatusOr<std::unique_ptr<VisionEncoder>> VisionEncoder::Load(const std::string& model_dir) {
  auto e = std::unique_ptr<VisionEncoder>(new VisionEncoder());
  ASSIGN_OR_RETURN(e->ckpt_, Checkpoint::Open(model_dir, {"model.vision_tower.", "model.embed_vision."}));
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
    ASSIGN_OR_RETURN(nlohmann::json builtin, BuiltinVisionSpec(vision->value("architecture", "")));
    ASSIGN_OR_RETURN(e->spec_, ParseVisionSpec(builtin));
  }
  const VisionSpec& s = e->spec_;
  const Checkpoint& ck = *e->ckpt_;
  const std::string p = s.weights_prefix;
  ASSIGN_OR_RETURN(e->stem_kernel_, LoadF32(ck, p + "conv_stem.conv.weight", {s.stem_out, s.in_chans, s.stem_kernel, s.stem_kernel}));
  ASSIGN_OR_RETURN(e->stem_bias_, LoadF32(ck, p + "conv_stem.conv.bias", {s.stem_out}));
  ASSIGN_OR_RETURN(e->stem_norm_, LoadF32(ck, p + "conv_stem.bn.weight", {s.stem_out}));
  for (const auto& stage : s.stages) {
    std::vector<Block> blocks;
    for (const VisionBlockSpec& b : stage) {
      Block w;
      w.spec = b;
      const std::string k = p + b.key_prefix + ".";
      switch (b.type) {
        case VisionBlockSpec::Type::kEdgeResidual: {
          ASSIGN_OR_RETURN(w.conv_exp, LoadF32(ck, k + "conv_exp.weight", {b.mid_chs, b.in_chs, b.exp_kernel, b.exp_kernel}));
          ASSIGN_OR_RETURN(w.bn1, LoadF32(ck, k + "bn1.weight", {b.mid_chs}));
          ASSIGN_OR_RETURN(w.conv_pwl, LoadPointwise(ck, k + "conv_pwl.weight", b.out_chs, b.mid_chs));
          ASSIGN_OR_RETURN(w.bn2, LoadF32(ck, k + "bn2.weight", {b.out_chs}));
          break;
        }
        case VisionBlockSpec::Type::kUniversalInvertedResidual: {
          if (b.dw_start_kernel > 0) {
            ASSIGN_OR_RETURN(w.dw_start, LoadF32(ck, k + "dw_start.conv.weight", {b.in_chs, 1, b.dw_start_kernel, b.dw_start_kernel}));
            ASSIGN_OR_RETURN(w.dw_start_bn, LoadF32(ck, k + "dw_start.bn.weight", {b.in_chs}));
          }
          ASSIGN_OR_RETURN(w.pw_exp, LoadPointwise(ck, k + "pw_exp.conv.weight", b.mid_chs, b.in_chs));
          ASSIGN_OR_RETURN(w.pw_exp_bn, LoadF32(ck, k + "pw_exp.bn.weight", {b.mid_chs}));
          if (b.dw_mid_kernel > 0) {
            ASSIGN_OR_RETURN(w.dw_mid, LoadF32(ck, k + "dw_mid.conv.weight", {b.mid_chs, 1, b.dw_mid_kernel, b.dw_mid_kernel}));
            ASSIGN_OR_RETURN(w.dw_mid_bn, LoadF32(ck, k + "dw_mid.bn.weight", {b.mid_chs}));
          }
          ASSIGN_OR_RETURN(w.pw_proj, LoadPointwise(ck, k + "pw_proj.conv.weight", b.out_chs, b.mid_chs));
          ASSIGN_OR_RETURN(w.pw_proj_bn, LoadF32(ck, k + "pw_proj.bn.weight", {b.out_chs}));
          break;
        }
        case VisionBlockSpec::Type::kMultiQueryAttention: {
          ASSIGN_OR_RETURN(w.norm, LoadF32(ck, k + "norm.weight", {b.in_chs}));
          ASSIGN_OR_RETURN(w.query, LoadPointwise(ck, k + "attn.query.proj.weight", b.num_heads * b.key_dim, b.in_chs));
          ASSIGN_OR_RETURN(w.key, LoadPointwise(ck, k + "attn.key.proj.weight", b.key_dim, b.in_chs));
          ASSIGN_OR_RETURN(w.value, LoadPointwise(ck, k + "attn.value.proj.weight", b.value_dim, b.in_chs));
          ASSIGN_OR_RETURN(w.output, LoadPointwise(ck, k + "attn.output.proj.weight", b.out_chs, b.num_heads * b.value_dim));
          if (b.kv_stride > 1) {
            const int64_t kk = b.kv_dw_kernel;
            ASSIGN_OR_RETURN(w.key_down, LoadF32(ck, k + "attn.key.down_conv.weight", {b.in_chs, 1, kk, kk}));
            ASSIGN_OR_RETURN(w.key_norm, LoadF32(ck, k + "attn.key.norm.weight", {b.in_chs}));
            ASSIGN_OR_RETURN(w.value_down, LoadF32(ck, k + "attn.value.down_conv.weight", {b.in_chs, 1, kk, kk}));
            ASSIGN_OR_RETURN(w.value_norm, LoadF32(ck, k + "attn.value.norm.weight", {b.in_chs}));
          }
          break;
        }
      }
      if (b.layer_scale) {
        ASSIGN_OR_RETURN(w.gamma, LoadF32(ck, k + "layer_scale.gamma", {b.out_chs}));
      }
      blocks.push_back(std::move(w));
    }
    e->blocks_.push_back(std::move(blocks));
  }
  ASSIGN_OR_RETURN(e->msfa_exp_, LoadPointwise(ck, p + "msfa.ffn.pw_exp.conv.weight", s.msfa_mid, s.msfa_in));
  ASSIGN_OR_RETURN(e->msfa_exp_norm_, LoadF32(ck, p + "msfa.ffn.pw_exp.bn.weight", {s.msfa_mid}));
  ASSIGN_OR_RETURN(e->msfa_proj_, LoadPointwise(ck, p + "msfa.ffn.pw_proj.conv.weight", s.msfa_out, s.msfa_mid));
  ASSIGN_OR_RETURN(e->msfa_proj_norm_, LoadF32(ck, p + "msfa.ffn.pw_proj.bn.weight", {s.msfa_out}));
  ASSIGN_OR_RETURN(e->msfa_norm_, LoadF32(ck, p + "msfa.norm.weight", {s.msfa_out}));

  ASSIGN_OR_RETURN(EmbedderVocab vocab, ParseEmbedderVocab(*vision));
  const nlohmann::json text = config.value("text_config", nlohmann::json::object());
  const int text_hidden = text.is_object() ? text.value("hidden_size", 0) : 0;
  if (text_hidden <= 0) return absl::InvalidArgumentError("config: text_config.hidden_size is missing");
  if (vocab.hidden_size != s.msfa_out) {
    return absl::InvalidArgumentError(absl::StrCat("vision_config.hidden_size ", vocab.hidden_size,
                                                   " differs from the tower's output width ", s.msfa_out));
  }
  ASSIGN_OR_RETURN(e->embedder_, MultimodalEmbedder::Load(ck, "model.embed_vision.", vocab, text_hidden));
  spdlog::info("loaded vision tower from {}: {} stages, {}x{} input, {} soft tokens", model_dir, s.stages.size(),
               s.input_h, s.input_w, s.out_h * s.out_w);
  return e;
}

FeatureMap VisionEncoder::RunBlock(const Block& w, const FeatureMap& x) const {
  const VisionBlockSpec& b = w.spec;
  const float eps = spec_.norm_eps;
  FeatureMap y;
  switch (b.type) {
    case VisionBlockSpec::Type::kEdgeResidual:
      y = Conv2dSame(x, w.conv_exp, b.mid_chs, b.exp_kernel, b.stride);
      RmsNorm2d(y, w.bn1, eps, /*gelu=*/true);
      y = Pointwise(y, w.conv_pwl);
      RmsNorm2d(y, w.bn2, eps, false);
      break;
    case VisionBlockSpec::Type::kUniversalInvertedResidual:
      y = x;
      if (b.dw_start_kernel > 0) {
        y = DepthwiseConv2dSame(y, w.dw_start, b.dw_start_kernel, b.dw_start_stride);
        RmsNorm2d(y, w.dw_start_bn, eps, false);
      }
      y = Pointwise(y, w.pw_exp);
      RmsNorm2d(y, w.pw_exp_bn, eps, true);
      if (b.dw_mid_kernel > 0) {
        y = DepthwiseConv2dSame(y, w.dw_mid, b.dw_mid_kernel, b.dw_mid_stride);
        RmsNorm2d(y, w.dw_mid_bn, eps, true);
      }
      y = Pointwise(y, w.pw_proj);
      RmsNorm2d(y, w.pw_proj_bn, eps, false);
      break;
    case VisionBlockSpec::Type::kMultiQueryAttention: {
      FeatureMap n = x;
      RmsNorm2d(n, w.norm, eps, false);
      const FeatureMap q = Pointwise(n, w.query);  // [HW, heads * kd]
      FeatureMap kv_in_k = n, kv_in_v = n;
      if (b.kv_stride > 1) {
        kv_in_k = DepthwiseConv2dSame(n, w.key_down, b.kv_dw_kernel, b.kv_stride);
        RmsNorm2d(kv_in_k, w.key_norm, eps, false);
        kv_in_v = DepthwiseConv2dSame(n, w.value_down, b.kv_dw_kernel, b.kv_stride);
        RmsNorm2d(kv_in_v, w.value_norm, eps, false);
      }
      const FeatureMap k = Pointwise(kv_in_k, w.key);    // [hw, kd], one head shared
      const FeatureMap v = Pointwise(kv_in_v, w.value);  // [hw, vd]
      const int64_t hw = k.pixels(), kd = b.key_dim, vd = b.value_dim, rows = x.pixels();
      FeatureMap o;
      o.h = x.h;
      o.w = x.w;
      o.c = b.num_heads * b.value_dim;
      o.data.assign(static_cast<size_t>(o.pixels()) * o.c, 0.0f);
      // Per head, as matrix products: P = softmax((q * scale) k^T) [rows, hw]; o_head = P v [rows, vd].
      std::vector<float> scaled_q = q.data, probs(static_cast<size_t>(rows * hw));
      for (float& v : scaled_q) v *= b.attn_scale;
      for (int head = 0; head < b.num_heads; ++head) {
        ParallelSgemm(/*trans_b=*/true, rows, hw, kd, scaled_q.data() + head * kd, q.c, k.data.data(), kd,
                      probs.data(), hw);
        ThreadPool::Default().ParallelFor(rows, hw, 1 << 16, [&](int64_t r0, int64_t r1) {
          for (int64_t r = r0; r < r1; ++r) SoftmaxRow(probs.data() + r * hw, hw);
        });
        ParallelSgemm(/*trans_b=*/false, rows, vd, hw, probs.data(), hw, v.data.data(), vd, o.data.data() + head * vd,
                      o.c);
      }
      y = Pointwise(o, w.output);
      break;
    }
  }
  LayerScale(y, w.gamma);
  if (b.has_skip) AddScaled(y, x);
  return y;
}

absl::StatusOr<VisionEncoding> VisionEncoder::Encode(const std::vector<float>& pixels, bool keep_stages,
                                                     int size) const {
  const VisionSpec& s = spec_;
  const int h = size > 0 ? size : s.input_h, w = size > 0 ? size : s.input_w;
  // The fused high-resolution map is the input / (input_h / msfa_high_h); it
  // must pool evenly to the output grid.
  const int reduction = s.input_h / s.msfa_high_h;
  if (h % reduction != 0 || w % reduction != 0 || (h / reduction) % s.out_h != 0 || (w / reduction) % s.out_w != 0) {
    return absl::InvalidArgumentError(absl::StrCat("vision input size ", h, "x", w, " is not supported: it must be a "
                                                   "multiple of ", reduction * s.out_h, " (e.g. ", s.input_h, ")"));
  }
  if (pixels.size() != static_cast<size_t>(s.in_chans) * h * w) {
    return absl::InvalidArgumentError(absl::StrCat("vision input must be [", s.in_chans, ", ", h, ", ", w, "], got ",
                                                   pixels.size(), " values"));
  }
  FeatureMap x;
  x.h = h;
  x.w = w;
  x.c = s.in_chans;
  x.data.resize(pixels.size());
  for (int c = 0; c < x.c; ++c)
    for (int i = 0; i < x.h * x.w; ++i) x.data[static_cast<size_t>(i) * x.c + c] = pixels[static_cast<size_t>(c) * x.h * x.w + i];

  VisionEncoding out;
  x = Conv2dSame(x, stem_kernel_, s.stem_out, s.stem_kernel, s.stem_stride, &stem_bias_);
  RmsNorm2d(x, stem_norm_, s.norm_eps, true);
  if (keep_stages) out.stages["conv_stem"] = x;
  std::vector<FeatureMap> stage_out;
  for (const auto& stage : blocks_) {
    for (const Block& b : stage) {
      x = RunBlock(b, x);
      if (keep_stages) out.stages[b.spec.key_prefix] = x;
    }
    stage_out.push_back(x);
  }
  // Multi-scale fusion: bring the chosen stages to the high resolution, concat channels.
  FeatureMap fused;
  fused.h = stage_out[s.msfa_stages[0]].h;  // the first fused stage has the highest resolution
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
  FeatureMap y = Pointwise(fused, msfa_exp_);
  RmsNorm2d(y, msfa_exp_norm_, s.norm_eps, true);
  y = Pointwise(y, msfa_proj_);
  RmsNorm2d(y, msfa_proj_norm_, s.norm_eps, false);
  if (y.h != s.out_h || y.w != s.out_w) y = AvgPool(y, y.h / s.out_h, y.h / s.out_h);  // sizes checked above
  RmsNorm2d(y, msfa_norm_, s.norm_eps, false);
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
