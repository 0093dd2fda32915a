// The vision tower's weights (model.vision_tower.timm_model.*) and its
// tensors described once: per tensor its timm name, its shape from the
// VisionSpec (or the block's VisionBlockSpec), when a block has it, and its
// field (which says how it is held). Loading and the synthetic-checkpoint
// shapes both visit this table (ForEachVisionTensor), so adding a tensor is
// one line in kTowerTensors or kBlockTensors (vision_tensors.cc).
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "common/kernels/weight_matrix.h"
#include "vision_worker/encoder/block_spec.h"

namespace gemma3n {

// One block's weights; the fields of other block types stay empty.
struct VisionBlockWeights {
  VisionBlockSpec spec;
  // er: conv_exp [mid, in, k, k], bn1 [mid], conv_pwl [out, mid], bn2 [out]
  std::vector<float> conv_exp, bn1, bn2;
  WeightMatrix conv_pwl;
  // uir: dw_start [in, 1, k, k], pw_exp [mid, in], dw_mid [mid, 1, k, k], pw_proj [out, mid], and their norms
  std::vector<float> dw_start, dw_start_bn, pw_exp_bn, dw_mid, dw_mid_bn, pw_proj_bn;
  WeightMatrix pw_exp, pw_proj;
  // mqa: norm [in], query [heads * kd, in], key [kd, in], value [vd, in],
  // output [out, heads * vd]; with kv_stride > 1 the K/V down convolutions [in, 1, k, k] and norms
  std::vector<float> norm, key_down, key_norm, value_down, value_norm;
  WeightMatrix query, key, value, output;
  std::vector<float> gamma;  // layer scale [out]; empty without
};

struct VisionTowerWeights {
  std::vector<float> stem_kernel, stem_bias, stem_norm;  // [stem_out, in_chans, k, k], [stem_out] x2
  std::vector<std::vector<VisionBlockWeights>> blocks;   // per stage
  WeightMatrix msfa_exp, msfa_proj;                      // [msfa_mid, msfa_in], [msfa_out, msfa_mid]
  std::vector<float> msfa_exp_norm, msfa_proj_norm, msfa_norm;  // [msfa_mid], [msfa_out] x2
};

// Visits every tensor of the tower of `spec` (the embedder's are
// MultimodalEmbedder's): the stem, each block of each stage, then the fusion
// adapter. `weights` is sized first (its blocks carry their specs). Stops at
// the first error and returns it.
absl::Status ForEachVisionTensor(const VisionSpec& spec, VisionTowerWeights& weights,
                                 absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit);

}  // namespace gemma3n
