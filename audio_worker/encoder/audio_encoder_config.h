// config.json "audio_config" (Gemma3nAudioConfig): the USM conformer's sizes.
#pragma once

#include <array>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

struct AudioEncoderConfig {
  int input_feat_size = 128;
  int hidden_size = 1536;
  float rms_norm_eps = 1e-6f;
  float gradient_clipping = 1e10f;
  float attention_logit_cap = 50.0f;
  float residual_weight = 0.5f;
  float group_norm_eps = 1e-3f;
  std::vector<std::array<int, 2>> conv_kernel;   // per SSCP conv: [time, freq]
  std::vector<std::array<int, 2>> conv_stride;
  std::vector<int> conv_channels;                // per SSCP conv
  int num_heads = 8;
  int num_layers = 12;
  int chunk_size = 12;
  int context_left = 13;
  int context_right = 0;
  int conv_kernel_size = 5;  // light conv
  int reduction_factor = 4;
};

absl::StatusOr<AudioEncoderConfig> ParseAudioEncoderConfig(const nlohmann::json& audio_config);

}  // namespace gemma3n
