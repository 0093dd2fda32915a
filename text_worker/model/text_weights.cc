#include "text_worker/model/text_weights.h"

#include <algorithm>
#include <initializer_list>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

absl::StatusOr<std::vector<float>> LoadMatrixF32(const Checkpoint& ckpt, const std::string& name, int64_t rows,
                                                 int64_t cols) {
  ASSIGN_OR_RETURN(TensorInfo t, ckpt.Get(name, {rows, cols}));
  std::vector<float> out(static_cast<size_t>(rows * cols));
  RETURN_IF_ERROR(CopyToF32(t, absl::MakeSpan(out)));
  return out;
}

absl::Status LoadLayer(const Checkpoint& ckpt, const TextConfig& c, const LayerSpec& spec,
                       DecoderLayerWeights& w) {
  const std::string p = absl::StrCat(kTextPrefix, "layers.", spec.index, ".");
  const int64_t h = c.hidden_size, hd = c.head_dim, q = c.num_attention_heads * hd,
                kv = c.num_key_value_heads * hd, f = spec.ffn_width, n = c.altup_num_inputs,
                ple = c.hidden_size_per_layer_input;

  ASSIGN_OR_RETURN(w.attn.q_proj, LoadWeightMatrix(ckpt, p + "self_attn.q_proj.weight", q, h));
  ASSIGN_OR_RETURN(w.attn.o_proj, LoadWeightMatrix(ckpt, p + "self_attn.o_proj.weight", h, q));
  ASSIGN_OR_RETURN(w.attn.q_norm, LoadVector(ckpt, p + "self_attn.q_norm.weight", hd));
  if (!spec.kv_shared) {
    ASSIGN_OR_RETURN(w.attn.k_proj, LoadWeightMatrix(ckpt, p + "self_attn.k_proj.weight", kv, h));
    ASSIGN_OR_RETURN(w.attn.v_proj, LoadWeightMatrix(ckpt, p + "self_attn.v_proj.weight", kv, h));
    ASSIGN_OR_RETURN(w.attn.k_norm, LoadVector(ckpt, p + "self_attn.k_norm.weight", hd));
  }

  ASSIGN_OR_RETURN(w.mlp.gate_proj, LoadWeightMatrix(ckpt, p + "mlp.gate_proj.weight", f, h));
  ASSIGN_OR_RETURN(w.mlp.up_proj, LoadWeightMatrix(ckpt, p + "mlp.up_proj.weight", f, h));
  ASSIGN_OR_RETURN(w.mlp.down_proj, LoadWeightMatrix(ckpt, p + "mlp.down_proj.weight", h, f));

  ASSIGN_OR_RETURN(w.altup.correct_output_scale, LoadVector(ckpt, p + "altup.correct_output_scale", h));
  ASSIGN_OR_RETURN(w.altup.correction_coefs, LoadMatrixF32(ckpt, p + "altup.correction_coefs.weight", n, n));
  ASSIGN_OR_RETURN(w.altup.prediction_coefs,
                   LoadMatrixF32(ckpt, p + "altup.prediction_coefs.weight", n * n, n));
  ASSIGN_OR_RETURN(w.altup.modality_router, LoadWeightMatrix(ckpt, p + "altup.modality_router.weight", n, h));
  ASSIGN_OR_RETURN(w.altup.router_norm, LoadVector(ckpt, p + "altup.router_norm.weight", h));
  if (c.altup_coef_clip > 0.0f) {
    // The reference clamps the correction coefficients in place before use.
    for (float& v : w.altup.correction_coefs) v = std::clamp(v, -c.altup_coef_clip, c.altup_coef_clip);
  }

  ASSIGN_OR_RETURN(w.laurel.linear_left, LoadWeightMatrix(ckpt, p + "laurel.linear_left.weight", c.laurel_rank, h));
  ASSIGN_OR_RETURN(w.laurel.linear_right,
                   LoadWeightMatrix(ckpt, p + "laurel.linear_right.weight", h, c.laurel_rank));
  ASSIGN_OR_RETURN(w.laurel.post_norm, LoadVector(ckpt, p + "laurel.post_laurel_norm.weight", h));

  ASSIGN_OR_RETURN(w.input_layernorm, LoadVector(ckpt, p + "input_layernorm.weight", h));
  ASSIGN_OR_RETURN(w.post_attention_layernorm, LoadVector(ckpt, p + "post_attention_layernorm.weight", h));
  ASSIGN_OR_RETURN(w.pre_feedforward_layernorm, LoadVector(ckpt, p + "pre_feedforward_layernorm.weight", h));
  ASSIGN_OR_RETURN(w.post_feedforward_layernorm, LoadVector(ckpt, p + "post_feedforward_layernorm.weight", h));
  ASSIGN_OR_RETURN(w.per_layer_input_gate, LoadWeightMatrix(ckpt, p + "per_layer_input_gate.weight", ple, h));
  ASSIGN_OR_RETURN(w.per_layer_projection, LoadWeightMatrix(ckpt, p + "per_layer_projection.weight", h, ple));
  ASSIGN_OR_RETURN(w.post_per_layer_input_norm, LoadVector(ckpt, p + "post_per_layer_input_norm.weight", h));
  return absl::OkStatus();
}

}  // namespace

std::vector<NamedShape> TextTensorShapes(const TextConfig& c) {
  const int64_t h = c.hidden_size, hd = c.head_dim, q = c.num_attention_heads * hd,
                kv = c.num_key_value_heads * hd, n = c.altup_num_inputs, ple = c.hidden_size_per_layer_input,
                layers = c.num_hidden_layers, r = c.laurel_rank;
  const std::string p = kTextPrefix;
  std::vector<NamedShape> out = {
      {p + "embed_tokens.weight", {c.vocab_size, h}},
      {p + "embed_tokens_per_layer.weight", {c.vocab_size_per_layer_input, layers * ple}},
      {p + "per_layer_model_projection.weight", {layers * ple, h}},
      {p + "per_layer_projection_norm.weight", {ple}},
      {p + "norm.weight", {h}},
  };
  for (int i = 1; i < n; ++i) {
    out.push_back({absl::StrCat(p, "altup_projections.", i - 1, ".weight"), {h, h}});
    out.push_back({absl::StrCat(p, "altup_unembed_projections.", i - 1, ".weight"), {h, h}});
  }
  for (int i = 0; i < layers; ++i) {
    const std::string l = absl::StrCat(p, "layers.", i, ".");
    const int64_t f = c.intermediate_size[i];
    const std::vector<NamedShape> layer = {
        {l + "self_attn.q_proj.weight", {q, h}},     {l + "self_attn.k_proj.weight", {kv, h}},
        {l + "self_attn.v_proj.weight", {kv, h}},    {l + "self_attn.o_proj.weight", {h, q}},
        {l + "self_attn.q_norm.weight", {hd}},       {l + "self_attn.k_norm.weight", {hd}},
        {l + "mlp.gate_proj.weight", {f, h}},        {l + "mlp.up_proj.weight", {f, h}},
        {l + "mlp.down_proj.weight", {h, f}},        {l + "altup.correct_output_scale", {h}},
        {l + "altup.correction_coefs.weight", {n, n}}, {l + "altup.prediction_coefs.weight", {n * n, n}},
        {l + "altup.modality_router.weight", {n, h}}, {l + "altup.router_norm.weight", {h}},
        {l + "laurel.linear_left.weight", {r, h}},   {l + "laurel.linear_right.weight", {h, r}},
        {l + "laurel.post_laurel_norm.weight", {h}}, {l + "input_layernorm.weight", {h}},
        {l + "post_attention_layernorm.weight", {h}}, {l + "pre_feedforward_layernorm.weight", {h}},
        {l + "post_feedforward_layernorm.weight", {h}}, {l + "per_layer_input_gate.weight", {ple, h}},
        {l + "per_layer_projection.weight", {h, ple}}, {l + "post_per_layer_input_norm.weight", {h}},
    };
    out.insert(out.end(), layer.begin(), layer.end());
  }
  return out;
}

absl::StatusOr<TextWeights> LoadTextWeights(const Checkpoint& ckpt, const TextConfig& c,
                                            const std::vector<LayerSpec>& specs) {
  TextWeights w;
  const std::string p = kTextPrefix;
  const int64_t h = c.hidden_size, ple = c.hidden_size_per_layer_input, layers = c.num_hidden_layers;
  ASSIGN_OR_RETURN(w.embed_tokens, LoadWeightMatrix(ckpt, p + "embed_tokens.weight", c.vocab_size, h));
  ASSIGN_OR_RETURN(w.per_layer_model_projection,
                   LoadWeightMatrix(ckpt, p + "per_layer_model_projection.weight", layers * ple, h));
  ASSIGN_OR_RETURN(w.per_layer_projection_norm, LoadVector(ckpt, p + "per_layer_projection_norm.weight", ple));
  for (int i = 1; i < c.altup_num_inputs; ++i) {
    ASSIGN_OR_RETURN(WeightMatrix up, LoadWeightMatrix(ckpt, absl::StrCat(p, "altup_projections.", i - 1, ".weight"), h, h));
    ASSIGN_OR_RETURN(WeightMatrix down,
                     LoadWeightMatrix(ckpt, absl::StrCat(p, "altup_unembed_projections.", i - 1, ".weight"), h, h));
    w.altup_projections.push_back(std::move(up));
    w.altup_unembed_projections.push_back(std::move(down));
  }
  ASSIGN_OR_RETURN(w.final_norm, LoadVector(ckpt, p + "norm.weight", h));
  w.layers.resize(layers);
  for (int i = 0; i < layers; ++i) RETURN_IF_ERROR(LoadLayer(ckpt, c, specs[i], w.layers[i]));
  return w;
}

PendingTransposes PlanSparseDownTransposes(TextWeights& w, const std::vector<LayerSpec>& specs) {
  PendingTransposes pending;
  for (size_t i = 0; i < w.layers.size(); ++i) {
    MlpWeights& mlp = w.layers[i].mlp;
    if (specs[i].activation_sparsity <= 0.0f || mlp.down_transposed) continue;
    pending.originals.emplace_back(i, mlp.down_proj);
    WeightMatrix shape;
    shape.format = mlp.down_proj.format;
    shape.rows = mlp.down_proj.cols;
    shape.cols = mlp.down_proj.rows;
    shape.stride = shape.cols;
    mlp.down_proj = shape;
    mlp.down_transposed = true;
  }
  return pending;
}

absl::Status TransposeSparseDownProjections(ThreadPool& pool, TextWeights& w, PendingTransposes& pending, bool release_source) {
  for (auto& [layer, original] : pending.originals) {
    ASSIGN_OR_RETURN(w.layers[layer].mlp.down_proj, TransposeWeights(pool, original, release_source));
  }
  pending.originals.clear();
  return absl::OkStatus();
}

std::vector<std::pair<std::string, WeightMatrix*>> ConvertibleMatrices(TextWeights& w) {
  const std::string p = kTextPrefix;
  std::vector<std::pair<std::string, WeightMatrix*>> all = {
      {p + "embed_tokens.weight", &w.embed_tokens},
      {p + "per_layer_model_projection.weight", &w.per_layer_model_projection}};
  for (size_t i = 0; i < w.altup_projections.size(); ++i) {
    all.emplace_back(absl::StrCat(p, "altup_projections.", i, ".weight"), &w.altup_projections[i]);
  }
  for (size_t i = 0; i < w.altup_unembed_projections.size(); ++i) {
    all.emplace_back(absl::StrCat(p, "altup_unembed_projections.", i, ".weight"), &w.altup_unembed_projections[i]);
  }
  for (size_t i = 0; i < w.layers.size(); ++i) {
    DecoderLayerWeights& l = w.layers[i];
    const std::string lp = absl::StrCat(p, "layers.", i, ".");
    for (auto [name, m] : std::initializer_list<std::pair<const char*, WeightMatrix*>>{
             {"self_attn.q_proj.weight", &l.attn.q_proj},
             {"self_attn.k_proj.weight", &l.attn.k_proj},
             {"self_attn.v_proj.weight", &l.attn.v_proj},
             {"self_attn.o_proj.weight", &l.attn.o_proj},
             {"mlp.gate_proj.weight", &l.mlp.gate_proj},
             {"mlp.up_proj.weight", &l.mlp.up_proj},
             {"mlp.down_proj.weight", &l.mlp.down_proj},
             {"laurel.linear_left.weight", &l.laurel.linear_left},
             {"laurel.linear_right.weight", &l.laurel.linear_right},
             {"per_layer_input_gate.weight", &l.per_layer_input_gate},
             {"per_layer_projection.weight", &l.per_layer_projection}}) {
      all.emplace_back(lp + name, m);
    }
  }
  std::vector<std::pair<std::string, WeightMatrix*>> out;
  for (auto& [name, m] : all) {
    // rows 0: k/v of KV-shared layers (not loaded); other widths stay as they are.
    if (m->rows > 0 && m->cols % kInt8Block == 0) out.emplace_back(std::move(name), m);
  }
  return out;
}

int64_t WeightBytes(const WeightMatrix& m) {
  switch (m.format) {
    case WeightMatrix::Format::kInt8: return m.rows * (m.cols + 4 * m.cols / kInt8Block);
    case WeightMatrix::Format::kInt4: return m.rows * (m.cols / 2 + 4 * m.cols / kInt8Block);
    case WeightMatrix::Format::kBF16: return 2 * m.rows * m.cols;
    case WeightMatrix::Format::kF32: break;
  }
  return 4 * m.rows * m.cols;
}

absl::StatusOr<int64_t> ConvertTextWeights(ThreadPool& pool, TextWeights& w, WeightFormat format, bool release_source) {
  int64_t bytes = 0;
  for (auto& [name, m] : ConvertibleMatrices(w)) {
    if (format == WeightFormat::kInt8) {
      ASSIGN_OR_RETURN(*m, QuantizeInt8(pool, *m, release_source));
    } else if (format == WeightFormat::kInt4) {
      ASSIGN_OR_RETURN(*m, QuantizeInt4(pool, *m, release_source));
    }
    bytes += WeightBytes(*m);
  }
  return bytes;
}

}  // namespace gemma3n
