#include "vision_worker/encoder/block_spec.h"

#include "absl/strings/str_cat.h"

namespace gemma3n {
namespace {

int IntOr(const nlohmann::json& j, const char* key, int fallback) {
  auto it = j.find(key);
  return it != j.end() && it->is_number_integer() ? it->get<int>() : fallback;
}

}  // namespace

absl::StatusOr<VisionSpec> ParseVisionSpec(const nlohmann::json& j) {
  if (!j.is_object() || j.value("format", "") != "mobilenetv5-blockspec-v1") {
    return absl::InvalidArgumentError("vision block spec: expected format mobilenetv5-blockspec-v1");
  }
  VisionSpec s;
  try {
    s.weights_prefix = j.at("weights_key_prefix").get<std::string>();
    s.in_chans = j.value("in_chans", 3);
    s.input_h = j.at("input_hw")[0].get<int>();
    s.input_w = j.at("input_hw")[1].get<int>();
    s.norm_eps = j.at("norm").value("eps", 1e-6f);
    const auto& stem = j.at("stem");
    s.stem_out = stem.at("out_chs").get<int>();
    s.stem_kernel = stem.at("kernel").get<int>();
    s.stem_stride = stem.at("stride").get<int>();
    for (const auto& stage : j.at("stages")) {
      std::vector<VisionBlockSpec> blocks;
      for (const auto& b : stage) {
        VisionBlockSpec v;
        const std::string type = b.at("type").get<std::string>();
        if (type == "er") {
          v.type = VisionBlockSpec::Type::kEdgeResidual;
        } else if (type == "uir") {
          v.type = VisionBlockSpec::Type::kUniversalInvertedResidual;
        } else if (type == "mqa") {
          v.type = VisionBlockSpec::Type::kMultiQueryAttention;
        } else {
          return absl::InvalidArgumentError(absl::StrCat("vision block spec: unknown block type '", type, "'"));
        }
        v.key_prefix = b.at("key_prefix").get<std::string>();
        v.in_chs = b.at("in_chs").get<int>();
        v.out_chs = b.at("out_chs").get<int>();
        v.mid_chs = IntOr(b, "mid_chs", 0);
        v.stride = IntOr(b, "stride", 1);
        v.exp_kernel = IntOr(b, "exp_kernel", 0);
        v.dw_start_kernel = IntOr(b, "dw_start_kernel", 0);
        v.dw_start_stride = IntOr(b, "dw_start_stride", 1);
        v.dw_mid_kernel = IntOr(b, "dw_mid_kernel", 0);
        v.dw_mid_stride = IntOr(b, "dw_mid_stride", 1);
        v.num_heads = IntOr(b, "num_heads", 0);
        v.key_dim = IntOr(b, "key_dim", 0);
        v.value_dim = IntOr(b, "value_dim", 0);
        v.kv_stride = IntOr(b, "kv_stride", 1);
        v.kv_dw_kernel = IntOr(b, "kv_dw_kernel", 0);
        v.attn_scale = b.value("attn_scale", 0.0f);
        v.has_skip = b.value("has_skip", false);
        v.layer_scale = b.value("layer_scale", false);
        if (b.value("query_stride", 1) != 1 || b.value("use_cpe", false)) {
          return absl::UnimplementedError(absl::StrCat("vision block ", v.key_prefix, ": query stride / CPE"));
        }
        blocks.push_back(v);
      }
      s.stages.push_back(std::move(blocks));
    }
    const auto& m = j.at("msfa");
    s.msfa_stages = m.at("fused_stage_indices").get<std::vector<int>>();
    s.msfa_in = m.at("in_chs").get<int>();
    s.msfa_mid = m.at("mid_chs").get<int>();
    s.msfa_out = m.at("out_chs").get<int>();
    s.msfa_high_h = m.at("high_res_hw")[0].get<int>();
    s.msfa_high_w = m.at("high_res_hw")[1].get<int>();
    s.out_h = m.at("output_resolution")[0].get<int>();
    s.out_w = m.at("output_resolution")[1].get<int>();
    const auto& down = m.at("downsample");
    if (down.value("op", "") != "avg_pool2d") return absl::UnimplementedError("vision MSFA: only avg_pool2d downsampling");
    s.pool_kernel = down.at("kernel")[0].get<int>();
    s.pool_stride = down.at("stride")[0].get<int>();
  } catch (const nlohmann::json::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("vision block spec: ", e.what()));
  }
  for (int stage : s.msfa_stages) {
    if (stage < 0 || stage >= static_cast<int>(s.stages.size())) {
      return absl::InvalidArgumentError("vision block spec: MSFA fuses a stage that does not exist");
    }
  }
  return s;
}

}  // namespace gemma3n
