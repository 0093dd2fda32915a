#include "common/config/model_config.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

using nlohmann::json;

// Gemma 3n has 30 (E2B) or 35 (E4B) layers; a config.json claiming two
// billion would have per-layer lists of gigabytes built before anything else
// could refuse it.
constexpr int kMaxHiddenLayers = 1024;

absl::Status Missing(const std::string& key) {
  return absl::InvalidArgumentError(absl::StrCat("config: missing or invalid '", key, "'"));
}

// Reads a required positive integer.
absl::StatusOr<int> RequiredInt(const json& j, const std::string& key) {
  auto it = j.find(key);
  if (it == j.end() || !it->is_number_integer() || it->get<int64_t>() <= 0 ||
      it->get<int64_t>() > (1LL << 31) - 1) {
    return Missing(key);
  }
  return it->get<int>();
}

// An int, or a per-layer list of ints (MatFormer checkpoints use lists).
absl::StatusOr<std::vector<int>> PerLayerInts(const json& j, const std::string& key, int layers) {
  auto it = j.find(key);
  if (it == j.end()) return Missing(key);
  if (it->is_number_integer()) {
    if (it->get<int64_t>() <= 0 || !FitsIn<int>(*it)) return Missing(key);
    return std::vector<int>(layers, it->get<int>());
  }
  if (!it->is_array() || static_cast<int>(it->size()) != layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: '", key, "' must be an int or a list of ", layers, " ints"));
  }
  std::vector<int> out;
  for (const auto& v : *it) {
    if (!v.is_number_integer() || v.get<int64_t>() <= 0 || !FitsIn<int>(v)) return Missing(key);
    out.push_back(v.get<int>());
  }
  return out;
}

absl::StatusOr<std::vector<float>> SparsityPattern(const json& j, int layers) {
  auto it = j.find("activation_sparsity_pattern");
  if (it == j.end() || it->is_null()) return std::vector<float>(layers, 0.0f);
  if (it->is_number()) return std::vector<float>(layers, it->get<float>());
  if (!it->is_array() || static_cast<int>(it->size()) != layers) {
    return absl::InvalidArgumentError(absl::StrCat(
        "config: 'activation_sparsity_pattern' must have one entry per layer (", layers, ")"));
  }
  std::vector<float> out;
  for (const auto& v : *it) {
    if (!v.is_number() || v.get<float>() < 0.0f || v.get<float>() >= 1.0f) {
      return absl::InvalidArgumentError("config: activation sparsity must be in [0, 1)");
    }
    out.push_back(v.get<float>());
  }
  return out;
}

absl::StatusOr<std::vector<AttentionType>> LayerTypes(const json& j, int layers) {
  std::vector<AttentionType> out;
  auto it = j.find("layer_types");
  if (it == j.end() || it->is_null()) {
    // Gemma3nTextConfig's default: every fifth layer attends globally.
    for (int i = 0; i < layers; ++i) {
      out.push_back((i + 1) % 5 == 0 ? AttentionType::kFull : AttentionType::kSliding);
    }
    return out;
  }
  if (!it->is_array() || static_cast<int>(it->size()) != layers) {
    return absl::InvalidArgumentError(
        absl::StrCat("config: 'layer_types' must list ", layers, " layers"));
  }
  for (const auto& v : *it) {
    std::string s = v.is_string() ? v.get<std::string>() : "";
    if (s == "sliding_attention") {
      out.push_back(AttentionType::kSliding);
    } else if (s == "full_attention") {
      out.push_back(AttentionType::kFull);
    } else {
      return absl::InvalidArgumentError(absl::StrCat("config: unknown layer type '", s, "'"));
    }
  }
  return out;
}

// RoPE bases: the classic keys (rope_theta, rope_local_base_freq) or the newer
// per-layer-type "rope_parameters" object. Only default (unscaled) RoPE exists
// in Gemma 3n checkpoints; anything else is refused rather than run wrongly.
absl::Status ParseRope(const json& j, TextConfig& c) {
  c.rope_theta = FieldOr<double>(j, "rope_theta", 1e6);
  c.rope_local_base_freq = FieldOr<double>(j, "rope_local_base_freq", 1e4);
  if (auto scaling = j.find("rope_scaling"); scaling != j.end() && !scaling->is_null()) {
    if (!scaling->is_object()) return absl::InvalidArgumentError("config: 'rope_scaling' must be an object or null");
    const std::string type = StringFieldOr(*scaling, "rope_type", StringFieldOr(*scaling, "type", ""));
    if (type != "default") {
      return absl::UnimplementedError(absl::StrCat("config: rope_scaling '", type, "' is not supported"));
    }
  }
  if (auto params = j.find("rope_parameters"); params != j.end() && params->is_object()) {
    for (const auto& [type, field] : {std::pair<std::string, double*>{"full_attention", &c.rope_theta},
                                      {"sliding_attention", &c.rope_local_base_freq}}) {
      auto p = params->find(type);
      if (p == params->end() || !p->is_object()) continue;
      if (StringFieldOr(*p, "rope_type", "default") != "default") {
        return absl::UnimplementedError(absl::StrCat("config: rope type for ", type, " is not supported"));
      }
      *field = FieldOr<double>(*p, "rope_theta", *field);
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<EmbedderVocab> ParseEmbedderVocab(const json& j) {
  EmbedderVocab e;
  ASSIGN_OR_RETURN(e.vocab_size, RequiredInt(j, "vocab_size"));
  ASSIGN_OR_RETURN(e.vocab_offset, RequiredInt(j, "vocab_offset"));
  ASSIGN_OR_RETURN(e.hidden_size, RequiredInt(j, "hidden_size"));
  e.rms_norm_eps = FieldOr<float>(j, "rms_norm_eps", 1e-6f);
  return e;
}

absl::StatusOr<TextConfig> ParseTextConfig(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config: text_config is not an object");
  TextConfig c;
  ASSIGN_OR_RETURN(c.vocab_size, RequiredInt(j, "vocab_size"));
  ASSIGN_OR_RETURN(c.vocab_size_per_layer_input, RequiredInt(j, "vocab_size_per_layer_input"));
  ASSIGN_OR_RETURN(c.hidden_size, RequiredInt(j, "hidden_size"));
  ASSIGN_OR_RETURN(c.hidden_size_per_layer_input, RequiredInt(j, "hidden_size_per_layer_input"));
  ASSIGN_OR_RETURN(c.num_hidden_layers, RequiredInt(j, "num_hidden_layers"));
  ASSIGN_OR_RETURN(c.num_attention_heads, RequiredInt(j, "num_attention_heads"));
  ASSIGN_OR_RETURN(c.num_key_value_heads, RequiredInt(j, "num_key_value_heads"));
  ASSIGN_OR_RETURN(c.head_dim, RequiredInt(j, "head_dim"));
  ASSIGN_OR_RETURN(c.sliding_window, RequiredInt(j, "sliding_window"));
  ASSIGN_OR_RETURN(c.laurel_rank, RequiredInt(j, "laurel_rank"));
  if (c.num_hidden_layers > kMaxHiddenLayers) {  // each per-layer list below has this many entries
    return absl::InvalidArgumentError(absl::StrCat("config: num_hidden_layers ", c.num_hidden_layers,
                                                   " is more than ", kMaxHiddenLayers));
  }
  const int layers = c.num_hidden_layers;
  ASSIGN_OR_RETURN(c.intermediate_size, PerLayerInts(j, "intermediate_size", layers));
  ASSIGN_OR_RETURN(c.layer_types, LayerTypes(j, layers));
  ASSIGN_OR_RETURN(c.activation_sparsity_pattern, SparsityPattern(j, layers));
  RETURN_IF_ERROR(ParseRope(j, c));
  c.rms_norm_eps = FieldOr<float>(j, "rms_norm_eps", 1e-6f);
  c.num_kv_shared_layers = FieldOr<int>(j, "num_kv_shared_layers", 0);
  c.altup_num_inputs = FieldOr<int>(j, "altup_num_inputs", 4);
  c.altup_active_idx = FieldOr<int>(j, "altup_active_idx", 0);
  c.altup_coef_clip = FieldOr<float>(j, "altup_coef_clip", 0.0f);
  c.altup_correct_scale = FieldOr<bool>(j, "altup_correct_scale", true);
  c.final_logit_softcapping = FieldOr<float>(j, "final_logit_softcapping", 0.0f);
  c.max_position_embeddings = FieldOr<int>(j, "max_position_embeddings", kGemma3nContextTokens);
  c.bos_token_id = FieldOr<int>(j, "bos_token_id", 2);

  if (c.max_position_embeddings < 2) {  // a prompt token and a generated one
    return absl::InvalidArgumentError(absl::StrCat("config: max_position_embeddings must be at least 2; got ",
                                                   c.max_position_embeddings));
  }
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    return absl::InvalidArgumentError("config: num_attention_heads must be a multiple of num_key_value_heads");
  }
  if (c.num_kv_shared_layers < 0 || c.num_kv_shared_layers >= layers) {
    return absl::InvalidArgumentError("config: num_kv_shared_layers out of range");
  }
  if (c.altup_num_inputs < 1 || c.altup_active_idx < 0 || c.altup_active_idx >= c.altup_num_inputs) {
    return absl::InvalidArgumentError("config: altup_active_idx must be below altup_num_inputs");
  }
  if (c.head_dim % 2 != 0) return absl::InvalidArgumentError("config: head_dim must be even (RoPE)");
  if (c.vocab_size_per_layer_input > c.vocab_size) {
    return absl::InvalidArgumentError("config: vocab_size_per_layer_input exceeds vocab_size");
  }
  return c;
}

absl::StatusOr<ModelConfig> ParseModelConfig(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("config.json is not a JSON object");
  ModelConfig m;
  m.raw = j;
  const std::string type = StringFieldOr(j, "model_type", "");
  m.model_type = type;
  if (type == "gemma3n_text") {
    ASSIGN_OR_RETURN(m.text, ParseTextConfig(j));
    m.eos_token_ids = {1};
    return m;
  }
  if (type != "gemma3n") {
    return absl::InvalidArgumentError(
        absl::StrCat("config.json: model_type '", type, "' is not a Gemma 3n model (expected 'gemma3n')"));
  }
  auto text = j.find("text_config");
  if (text == j.end()) return Missing("text_config");
  ASSIGN_OR_RETURN(m.text, ParseTextConfig(*text));
  if (auto v = j.find("vision_config"); v != j.end() && v->is_object()) {
    ASSIGN_OR_RETURN(m.vision, ParseEmbedderVocab(*v));
    m.has_vision = true;
  }
  if (auto a = j.find("audio_config"); a != j.end() && a->is_object()) {
    ASSIGN_OR_RETURN(m.audio, ParseEmbedderVocab(*a));
    m.has_audio = true;
  }
  m.boi_token_id = FieldOr<int>(j, "boi_token_id", -1);
  m.eoi_token_id = FieldOr<int>(j, "eoi_token_id", -1);
  m.image_token_id = FieldOr<int>(j, "image_token_id", -1);
  m.boa_token_id = FieldOr<int>(j, "boa_token_id", -1);
  m.eoa_token_id = FieldOr<int>(j, "eoa_token_id", -1);
  m.audio_token_id = FieldOr<int>(j, "audio_token_id", -1);
  m.vision_soft_tokens_per_image = FieldOr<int>(j, "vision_soft_tokens_per_image", 256);
  m.audio_soft_tokens_per_image = FieldOr<int>(j, "audio_soft_tokens_per_image", 188);
  // Each image / audio span becomes this many prompt positions.
  for (const auto& [key, n] : {std::pair<const char*, int>{"vision_soft_tokens_per_image", m.vision_soft_tokens_per_image},
                               {"audio_soft_tokens_per_image", m.audio_soft_tokens_per_image}}) {
    if (n < 1 || n > kGemma3nContextTokens) {
      return absl::InvalidArgumentError(absl::StrCat("config: '", key, "' must be in [1, ", kGemma3nContextTokens,
                                                     "]; got ", n));
    }
  }
  if (auto eos = j.find("eos_token_id"); eos != j.end()) {
    if (eos->is_number_integer() && FitsIn<int>(*eos)) m.eos_token_ids = {eos->get<int>()};
    if (eos->is_array()) {
      for (const auto& e : *eos) {
        if (e.is_number_integer() && FitsIn<int>(e)) m.eos_token_ids.push_back(e.get<int>());
      }
    }
  }
  if (m.eos_token_ids.empty()) m.eos_token_ids = {1};
  if (m.has_vision && m.has_audio && m.vision.vocab_offset + m.vision.vocab_size > m.audio.vocab_offset) {
    return absl::InvalidArgumentError("config: vision and audio vocabularies overlap");
  }
  return m;
}

}  // namespace gemma3n
