// The parts of a Gemma 3n config.json that the C++ code uses, parsed and
// validated once. The decoder's structure is derived from it as data
// (text_worker/model/layer_spec.h), not hard-coded.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

// Gemma 3n's context (max_position_embeddings of the published checkpoints):
// the default when config.json omits it, and the most the gateway serves.
inline constexpr int kGemma3nContextTokens = 32768;

enum class AttentionType { kSliding, kFull };

// config.json "text_config" (Gemma3nTextConfig).
struct TextConfig {
  int vocab_size = 0;                  // embed_tokens rows (text + vision + audio ids)
  int vocab_size_per_layer_input = 0;  // embed_tokens_per_layer rows (text ids only)
  int hidden_size = 0;
  int hidden_size_per_layer_input = 0;
  int num_hidden_layers = 0;
  std::vector<int> intermediate_size;  // per layer
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int head_dim = 0;
  float rms_norm_eps = 1e-6f;
  double rope_theta = 1e6;         // full-attention layers
  double rope_local_base_freq = 1e4;  // sliding layers
  int sliding_window = 512;
  std::vector<AttentionType> layer_types;
  int num_kv_shared_layers = 0;
  int laurel_rank = 0;
  std::vector<float> activation_sparsity_pattern;  // per layer, 0 = dense
  int altup_num_inputs = 4;
  int altup_active_idx = 0;
  float altup_coef_clip = 0.0f;  // 0 = no clipping
  bool altup_correct_scale = true;
  float final_logit_softcapping = 0.0f;  // 0 = none
  int max_position_embeddings = kGemma3nContextTokens;
  int bos_token_id = 2;
};

// A multimodal embedder's vocabulary slice (vision_config / audio_config).
struct EmbedderVocab {
  int vocab_offset = 0;
  int vocab_size = 0;
  int hidden_size = 0;  // the encoder's output width (embedder input)
  float rms_norm_eps = 1e-6f;
};

// The whole config.json of a Gemma3nForConditionalGeneration checkpoint.
struct ModelConfig {
  std::string model_type;  // "gemma3n" or "gemma3n_text"
  TextConfig text;
  bool has_vision = false;
  bool has_audio = false;
  EmbedderVocab vision;
  EmbedderVocab audio;
  int boi_token_id = -1, eoi_token_id = -1, image_token_id = -1;
  int boa_token_id = -1, eoa_token_id = -1, audio_token_id = -1;
  int vision_soft_tokens_per_image = 0;
  int audio_soft_tokens_per_image = 0;
  std::vector<int> eos_token_ids;  // generation stops on any of these
  nlohmann::json raw;              // the full document, for the encoders' own fields
};

// Parses an embedder's slice of a vision_config / audio_config object.
absl::StatusOr<EmbedderVocab> ParseEmbedderVocab(const nlohmann::json& modality_config);

// Parses a text_config object. Errors name the offending key.
absl::StatusOr<TextConfig> ParseTextConfig(const nlohmann::json& text_config);
// Parses a top-level config.json (model_type "gemma3n"); also accepts a bare
// text config (model_type "gemma3n_text").
absl::StatusOr<ModelConfig> ParseModelConfig(const nlohmann::json& config);

}  // namespace gemma3n
