// The MobileNet-V5 encoder as data ("mobilenetv5-blockspec-v1"): stem, stages
// of blocks (EdgeResidual "er", UniversalInvertedResidual "uir", mobile
// multi-query attention "mqa") and the multi-scale fusion adapter. A
// checkpoint's vision_config.block_spec gives it (the tiny test models do);
// the real mobilenetv5_300m_enc spec is the same structure.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

struct VisionBlockSpec {
  enum class Type { kEdgeResidual, kUniversalInvertedResidual, kMultiQueryAttention };
  Type type = Type::kUniversalInvertedResidual;
  std::string key_prefix;  // e.g. "blocks.2.3"
  int in_chs = 0, mid_chs = 0, out_chs = 0;
  int stride = 1;           // er: conv_exp stride
  int exp_kernel = 0;       // er
  int dw_start_kernel = 0, dw_start_stride = 1, dw_mid_kernel = 0, dw_mid_stride = 1;  // uir
  int num_heads = 0, key_dim = 0, value_dim = 0, kv_stride = 1, kv_dw_kernel = 0;       // mqa
  float attn_scale = 0.0f;
  bool has_skip = false;
  bool layer_scale = false;
};

struct VisionSpec {
  std::string weights_prefix;  // "model.vision_tower.timm_model."
  int in_chans = 3;
  int input_h = 768, input_w = 768;
  float norm_eps = 1e-6f;
  int stem_out = 0, stem_kernel = 3, stem_stride = 2;
  std::vector<std::vector<VisionBlockSpec>> stages;
  std::vector<int> msfa_stages;  // stage indices fused
  int msfa_in = 0, msfa_mid = 0, msfa_out = 0;
  int msfa_high_h = 0, msfa_high_w = 0;
  int pool_kernel = 3, pool_stride = 3;
  int out_h = 0, out_w = 0;
};

absl::StatusOr<VisionSpec> ParseVisionSpec(const nlohmann::json& spec);

}  // namespace gemma3n
