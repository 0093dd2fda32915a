#include "text_worker/model/text_tensors.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

// Slots: a member of TextWeights, an element of one of its lists, a member
// (path) of a decoder layer.
template <auto Member>
WeightSlot Model(TextWeights& w, int) {
  return &(w.*Member);
}
template <auto List>
WeightSlot Stream(TextWeights& w, int i) {
  return &(w.*List)[i];
}
template <auto... Path>
WeightSlot Layer(TextWeights& w, int i) {
  return &(w.layers[i] .* ... .* Path);
}
WeightSlot Nowhere(TextWeights&, int) { return std::monostate{}; }

using D = TextDim;
using S = TensorStorage;
using L = DecoderLayerWeights;
constexpr LayerPresence kAll = LayerPresence::kAll, kOwnKv = LayerPresence::kOwnKv;

// Model-wide tensors, then the per-stream ones (the "%d" names).
const TextTensorDef kModelTensors[] = {
    {"embed_tokens.weight", S::kConvertible, D::kVocab, D::kHidden, kAll, Model<&TextWeights::embed_tokens>},
    {"embed_tokens_per_layer.weight", S::kElsewhere, D::kPleVocab, D::kLayersPle, kAll, Nowhere},
    {"per_layer_model_projection.weight", S::kConvertible, D::kLayersPle, D::kHidden, kAll,
     Model<&TextWeights::per_layer_model_projection>},
    {"per_layer_projection_norm.weight", S::kF32, D::kPle, D::kNone, kAll,
     Model<&TextWeights::per_layer_projection_norm>},
    {"norm.weight", S::kF32, D::kHidden, D::kNone, kAll, Model<&TextWeights::final_norm>},
};
const TextTensorDef kStreamTensors[] = {
    {"altup_projections.%d.weight", S::kConvertible, D::kHidden, D::kHidden, kAll,
     Stream<&TextWeights::altup_projections>},
    {"altup_unembed_projections.%d.weight", S::kConvertible, D::kHidden, D::kHidden, kAll,
     Stream<&TextWeights::altup_unembed_projections>},
};

// One decoder layer, in the order of a Hugging Face checkpoint's listing.
const TextTensorDef kLayerTensors[] = {
    {"self_attn.q_proj.weight", S::kConvertible, D::kQueryWidth, D::kHidden, kAll, Layer<&L::attn, &AttentionWeights::q_proj>},
    {"self_attn.k_proj.weight", S::kConvertible, D::kKvWidth, D::kHidden, kOwnKv, Layer<&L::attn, &AttentionWeights::k_proj>},
    {"self_attn.v_proj.weight", S::kConvertible, D::kKvWidth, D::kHidden, kOwnKv, Layer<&L::attn, &AttentionWeights::v_proj>},
    {"self_attn.o_proj.weight", S::kConvertible, D::kHidden, D::kQueryWidth, kAll, Layer<&L::attn, &AttentionWeights::o_proj>},
    {"self_attn.q_norm.weight", S::kF32, D::kHeadDim, D::kNone, kAll, Layer<&L::attn, &AttentionWeights::q_norm>},
    {"self_attn.k_norm.weight", S::kF32, D::kHeadDim, D::kNone, kOwnKv, Layer<&L::attn, &AttentionWeights::k_norm>},
    {"mlp.gate_proj.weight", S::kConvertible, D::kFfn, D::kHidden, kAll, Layer<&L::mlp, &MlpWeights::gate_proj>},
    {"mlp.up_proj.weight", S::kConvertible, D::kFfn, D::kHidden, kAll, Layer<&L::mlp, &MlpWeights::up_proj>},
    {"mlp.down_proj.weight", S::kConvertible, D::kHidden, D::kFfn, kAll, Layer<&L::mlp, &MlpWeights::down_proj>},
    {"altup.correct_output_scale", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::altup, &AltUpWeights::correct_output_scale>},
    {"altup.correction_coefs.weight", S::kF32, D::kAltUp, D::kAltUp, kAll, Layer<&L::altup, &AltUpWeights::correction_coefs>},
    {"altup.prediction_coefs.weight", S::kF32, D::kAltUpSquared, D::kAltUp, kAll, Layer<&L::altup, &AltUpWeights::prediction_coefs>},
    {"altup.modality_router.weight", S::kAsStored, D::kAltUp, D::kHidden, kAll, Layer<&L::altup, &AltUpWeights::modality_router>},
    {"altup.router_norm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::altup, &AltUpWeights::router_norm>},
    {"laurel.linear_left.weight", S::kConvertible, D::kLaurelRank, D::kHidden, kAll, Layer<&L::laurel, &LaurelWeights::linear_left>},
    {"laurel.linear_right.weight", S::kConvertible, D::kHidden, D::kLaurelRank, kAll, Layer<&L::laurel, &LaurelWeights::linear_right>},
    {"laurel.post_laurel_norm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::laurel, &LaurelWeights::post_norm>},
    {"input_layernorm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::input_layernorm>},
    {"post_attention_layernorm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::post_attention_layernorm>},
    {"pre_feedforward_layernorm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::pre_feedforward_layernorm>},
    {"post_feedforward_layernorm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::post_feedforward_layernorm>},
    {"per_layer_input_gate.weight", S::kConvertible, D::kPle, D::kHidden, kAll, Layer<&L::per_layer_input_gate>},
    {"per_layer_projection.weight", S::kConvertible, D::kHidden, D::kPle, kAll, Layer<&L::per_layer_projection>},
    {"post_per_layer_input_norm.weight", S::kF32, D::kHidden, D::kNone, kAll, Layer<&L::post_per_layer_input_norm>},
};

// One visit: the name, the checkpoint's shape and, when held, the slot.
absl::Status Visit(const TextTensorDef& def, std::string name, const TextConfig& c, const LayerSpec* spec, int index,
                   TextWeights* w, absl::FunctionRef<absl::Status(const TextTensorRef&)> visit) {
  const int64_t ffn = spec ? c.intermediate_size[spec->index] : 0;
  const bool loaded = def.storage != S::kElsewhere && !(def.presence == kOwnKv && spec && spec->kv_shared);
  WeightSlot slot;
  if (w && loaded) slot = def.slot(*w, index);
  return visit(TextTensorRef{def, std::move(name), TextTensorShape(def, c, ffn), spec, loaded, slot});
}

}  // namespace

int64_t TextDimSize(TextDim dim, const TextConfig& c, int64_t ffn) {
  switch (dim) {
    case D::kNone: return 1;
    case D::kHidden: return c.hidden_size;
    case D::kHeadDim: return c.head_dim;
    case D::kQueryWidth: return static_cast<int64_t>(c.num_attention_heads) * c.head_dim;
    case D::kKvWidth: return static_cast<int64_t>(c.num_key_value_heads) * c.head_dim;
    case D::kFfn: return ffn;
    case D::kAltUp: return c.altup_num_inputs;
    case D::kAltUpSquared: return static_cast<int64_t>(c.altup_num_inputs) * c.altup_num_inputs;
    case D::kLaurelRank: return c.laurel_rank;
    case D::kPle: return c.hidden_size_per_layer_input;
    case D::kLayersPle: return static_cast<int64_t>(c.num_hidden_layers) * c.hidden_size_per_layer_input;
    case D::kVocab: return c.vocab_size;
    case D::kPleVocab: return c.vocab_size_per_layer_input;
  }
  return 0;
}

std::vector<int64_t> TextTensorShape(const TextTensorDef& def, const TextConfig& c, int64_t ffn) {
  if (def.cols == D::kNone) return {TextDimSize(def.rows, c, ffn)};
  return {TextDimSize(def.rows, c, ffn), TextDimSize(def.cols, c, ffn)};
}

void SizeTextWeights(const TextConfig& c, TextWeights& w) {
  const size_t streams = c.altup_num_inputs > 1 ? c.altup_num_inputs - 1 : 0;
  w.altup_projections.resize(streams);
  w.altup_unembed_projections.resize(streams);
  w.layers.resize(c.num_hidden_layers);
}

absl::Status ForEachTextTensor(const TextConfig& c, const std::vector<LayerSpec>& specs, TextWeights* w,
                               absl::FunctionRef<absl::Status(const TextTensorRef&)> visit) {
  for (const TextTensorDef& def : kModelTensors) {
    RETURN_IF_ERROR(Visit(def, absl::StrCat(kTextPrefix, def.name), c, nullptr, 0, w, visit));
  }
  for (int i = 0; i + 1 < c.altup_num_inputs; ++i) {
    for (const TextTensorDef& def : kStreamTensors) {
      const std::string name = absl::StrReplaceAll(def.name, {{"%d", absl::StrCat(i)}});
      RETURN_IF_ERROR(Visit(def, kTextPrefix + name, c, nullptr, i, w, visit));
    }
  }
  for (const LayerSpec& spec : specs) {
    const std::string prefix = absl::StrCat(kTextPrefix, "layers.", spec.index, ".");
    for (const TextTensorDef& def : kLayerTensors) {
      RETURN_IF_ERROR(Visit(def, prefix + def.name, c, &spec, spec.index, w, visit));
    }
  }
  return absl::OkStatus();
}

}  // namespace gemma3n
