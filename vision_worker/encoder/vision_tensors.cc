#include "vision_worker/encoder/vision_tensors.h"

#include <optional>

#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

using Shape = std::vector<int64_t>;
using B = VisionBlockSpec;
using T = VisionBlockSpec::Type;
using W = VisionBlockWeights;
using Tower = VisionTowerWeights;

template <class Weights>
using Field = std::variant<std::vector<float> Weights::*, WeightMatrix Weights::*>;

template <class Weights>
WeightSlot SlotOf(const Field<Weights>& field, Weights& w) {
  return std::visit([&](auto member) -> WeightSlot { return &(w.*member); }, field);
}

// Tensors of the whole tower around the blocks, after weights_prefix.
struct TowerTensor {
  const char* name;
  Shape (*shape)(const VisionSpec&);
  Field<Tower> field;
  bool after_blocks;  // the fusion adapter; else the stem
};

const TowerTensor kTowerTensors[] = {
    {"conv_stem.conv.weight", [](const VisionSpec& s) -> Shape { return {s.stem_out, s.in_chans, s.stem_kernel, s.stem_kernel}; }, &Tower::stem_kernel, false},
    {"conv_stem.conv.bias", [](const VisionSpec& s) -> Shape { return {s.stem_out}; }, &Tower::stem_bias, false},
    {"conv_stem.bn.weight", [](const VisionSpec& s) -> Shape { return {s.stem_out}; }, &Tower::stem_norm, false},
    {"msfa.ffn.pw_exp.conv.weight", [](const VisionSpec& s) -> Shape { return {s.msfa_mid, s.msfa_in, 1, 1}; }, &Tower::msfa_exp, true},
    {"msfa.ffn.pw_exp.bn.weight", [](const VisionSpec& s) -> Shape { return {s.msfa_mid}; }, &Tower::msfa_exp_norm, true},
    {"msfa.ffn.pw_proj.conv.weight", [](const VisionSpec& s) -> Shape { return {s.msfa_out, s.msfa_mid, 1, 1}; }, &Tower::msfa_proj, true},
    {"msfa.ffn.pw_proj.bn.weight", [](const VisionSpec& s) -> Shape { return {s.msfa_out}; }, &Tower::msfa_proj_norm, true},
    {"msfa.norm.weight", [](const VisionSpec& s) -> Shape { return {s.msfa_out}; }, &Tower::msfa_norm, true},
};

// Tensors of one block, after "<weights_prefix><key_prefix>.": those of its
// type (kAnyType: every block) whose condition holds (null: always).
struct BlockTensor {
  std::optional<T> type;
  const char* name;
  Shape (*shape)(const B&);
  bool (*present)(const B&);
  Field<W> field;
};
constexpr std::optional<T> kAnyType;
constexpr auto kDwStart = [](const B& b) { return b.dw_start_kernel > 0; };
constexpr auto kDwMid = [](const B& b) { return b.dw_mid_kernel > 0; };
constexpr auto kKvDown = [](const B& b) { return b.kv_stride > 1; };
constexpr auto kLayerScale = [](const B& b) { return b.layer_scale; };

const BlockTensor kBlockTensors[] = {
    {T::kEdgeResidual, "conv_exp.weight", [](const B& b) -> Shape { return {b.mid_chs, b.in_chs, b.exp_kernel, b.exp_kernel}; }, nullptr, &W::conv_exp},
    {T::kEdgeResidual, "bn1.weight", [](const B& b) -> Shape { return {b.mid_chs}; }, nullptr, &W::bn1},
    {T::kEdgeResidual, "conv_pwl.weight", [](const B& b) -> Shape { return {b.out_chs, b.mid_chs, 1, 1}; }, nullptr, &W::conv_pwl},
    {T::kEdgeResidual, "bn2.weight", [](const B& b) -> Shape { return {b.out_chs}; }, nullptr, &W::bn2},
    {T::kUniversalInvertedResidual, "dw_start.conv.weight", [](const B& b) -> Shape { return {b.in_chs, 1, b.dw_start_kernel, b.dw_start_kernel}; }, kDwStart, &W::dw_start},
    {T::kUniversalInvertedResidual, "dw_start.bn.weight", [](const B& b) -> Shape { return {b.in_chs}; }, kDwStart, &W::dw_start_bn},
    {T::kUniversalInvertedResidual, "pw_exp.conv.weight", [](const B& b) -> Shape { return {b.mid_chs, b.in_chs, 1, 1}; }, nullptr, &W::pw_exp},
    {T::kUniversalInvertedResidual, "pw_exp.bn.weight", [](const B& b) -> Shape { return {b.mid_chs}; }, nullptr, &W::pw_exp_bn},
    {T::kUniversalInvertedResidual, "dw_mid.conv.weight", [](const B& b) -> Shape { return {b.mid_chs, 1, b.dw_mid_kernel, b.dw_mid_kernel}; }, kDwMid, &W::dw_mid},
    {T::kUniversalInvertedResidual, "dw_mid.bn.weight", [](const B& b) -> Shape { return {b.mid_chs}; }, kDwMid, &W::dw_mid_bn},
    {T::kUniversalInvertedResidual, "pw_proj.conv.weight", [](const B& b) -> Shape { return {b.out_chs, b.mid_chs, 1, 1}; }, nullptr, &W::pw_proj},
    {T::kUniversalInvertedResidual, "pw_proj.bn.weight", [](const B& b) -> Shape { return {b.out_chs}; }, nullptr, &W::pw_proj_bn},
    {T::kMultiQueryAttention, "norm.weight", [](const B& b) -> Shape { return {b.in_chs}; }, nullptr, &W::norm},
    {T::kMultiQueryAttention, "attn.query.proj.weight", [](const B& b) -> Shape { return {b.num_heads * b.key_dim, b.in_chs, 1, 1}; }, nullptr, &W::query},
    {T::kMultiQueryAttention, "attn.key.proj.weight", [](const B& b) -> Shape { return {b.key_dim, b.in_chs, 1, 1}; }, nullptr, &W::key},
    {T::kMultiQueryAttention, "attn.value.proj.weight", [](const B& b) -> Shape { return {b.value_dim, b.in_chs, 1, 1}; }, nullptr, &W::value},
    {T::kMultiQueryAttention, "attn.output.proj.weight", [](const B& b) -> Shape { return {b.out_chs, b.num_heads * b.value_dim, 1, 1}; }, nullptr, &W::output},
    {T::kMultiQueryAttention, "attn.key.down_conv.weight", [](const B& b) -> Shape { return {b.in_chs, 1, b.kv_dw_kernel, b.kv_dw_kernel}; }, kKvDown, &W::key_down},
    {T::kMultiQueryAttention, "attn.key.norm.weight", [](const B& b) -> Shape { return {b.in_chs}; }, kKvDown, &W::key_norm},
    {T::kMultiQueryAttention, "attn.value.down_conv.weight", [](const B& b) -> Shape { return {b.in_chs, 1, b.kv_dw_kernel, b.kv_dw_kernel}; }, kKvDown, &W::value_down},
    {T::kMultiQueryAttention, "attn.value.norm.weight", [](const B& b) -> Shape { return {b.in_chs}; }, kKvDown, &W::value_norm},
    {kAnyType, "layer_scale.gamma", [](const B& b) -> Shape { return {b.out_chs}; }, kLayerScale, &W::gamma},
};

absl::Status VisitTower(const VisionSpec& s, Tower& w, bool after_blocks,
                        absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit) {
  for (const TowerTensor& t : kTowerTensors) {
    if (t.after_blocks != after_blocks) continue;
    RETURN_IF_ERROR(visit({s.weights_prefix + t.name, t.shape(s), SlotOf(t.field, w)}));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ForEachVisionTensor(const VisionSpec& s, VisionTowerWeights& w,
                                 absl::FunctionRef<absl::Status(const NamedWeightSlot&)> visit) {
  RETURN_IF_ERROR(VisitTower(s, w, /*after_blocks=*/false, visit));
  w.blocks.resize(s.stages.size());
  for (size_t stage = 0; stage < s.stages.size(); ++stage) {
    w.blocks[stage].resize(s.stages[stage].size());
    for (size_t i = 0; i < s.stages[stage].size(); ++i) {
      const VisionBlockSpec& b = s.stages[stage][i];
      VisionBlockWeights& bw = w.blocks[stage][i];
      bw.spec = b;
      const std::string prefix = s.weights_prefix + b.key_prefix + ".";
      for (const BlockTensor& t : kBlockTensors) {
        if ((t.type && *t.type != b.type) || (t.present && !t.present(b))) continue;
        RETURN_IF_ERROR(visit({prefix + t.name, t.shape(b), SlotOf(t.field, bw)}));
      }
    }
  }
  return VisitTower(s, w, /*after_blocks=*/true, visit);
}

}  // namespace gemma3n
