#include "text_worker/matformer/elastic_plan.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "text_worker/model/text_weights.h"

namespace gemma3n {

int64_t EffectiveParameters(const TextConfig& c) {
  int64_t total = 0;
  for (const NamedShape& t : TextTensorShapes(c)) {  // as the checkpoint holds them: shared layers keep k/v
    if (t.name == absl::StrCat(kTextPrefix, "embed_tokens.weight") ||
        t.name == absl::StrCat(kTextPrefix, "embed_tokens_per_layer.weight")) {
      continue;
    }
    total += NumElements(t.shape);
  }
  return total;
}

absl::StatusOr<ElasticPlan> PlanProfile(const TextConfig& full, const SlicingProfile& profile) {
  const int layers = full.num_hidden_layers;
  const auto bad = [&](const std::string& why) {
    return absl::InvalidArgumentError(absl::StrCat("profile '", profile.name, "' cannot apply: ", why));
  };
  std::set<int> skipped(profile.skipped.begin(), profile.skipped.end());
  for (int s : skipped) {
    if (s < 0 || s >= layers) return bad(absl::StrCat("skipped layer ", s, " does not exist (", layers, " layers)"));
  }
  const int kept_count = layers - static_cast<int>(skipped.size());
  if (static_cast<int>(profile.ffn_widths.size()) != kept_count) {
    return bad(absl::StrCat("it gives ", profile.ffn_widths.size(), " FFN widths for ", kept_count,
                            " kept layers (", layers, " layers, ", skipped.size(), " skipped)"));
  }
  const std::vector<LayerSpec> full_specs = BuildLayerSpecs(full);
  for (const LayerSpec& s : full_specs) {
    if (s.kv_shared && skipped.count(s.kv_source)) {
      return bad(absl::StrCat("layer ", s.kv_source, " is skipped but layer ", s.index, " reads its K/V"));
    }
  }

  ElasticPlan plan;
  plan.profile = profile;
  TextConfig& sliced = plan.sliced_config;
  sliced = full;
  sliced.intermediate_size.clear();
  sliced.layer_types.clear();
  sliced.activation_sparsity_pattern.clear();
  const int first_shared = layers - full.num_kv_shared_layers;
  int shared_skipped = 0;
  for (int i = 0; i < layers; ++i) {
    if (skipped.count(i)) {
      if (i >= first_shared) ++shared_skipped;
      continue;
    }
    const int width = profile.ffn_widths[plan.kept.size()];
    if (width > full.intermediate_size[i]) {
      return bad(absl::StrCat("layer ", i, " gets FFN width ", width, ", the checkpoint has only ",
                              full.intermediate_size[i]));
    }
    LayerSpec spec = full_specs[i];
    spec.ffn_width = width;
    plan.specs.push_back(spec);
    plan.kept.push_back(i);
    sliced.intermediate_size.push_back(width);
    sliced.layer_types.push_back(full.layer_types[i]);
    sliced.activation_sparsity_pattern.push_back(full.activation_sparsity_pattern[i]);
  }
  sliced.num_hidden_layers = kept_count;
  sliced.num_kv_shared_layers = full.num_kv_shared_layers - shared_skipped;
  // The sliced model must derive the same sharing: its shared layers are the
  // kept shared ones, reading the same (kept) sources.
  const std::vector<LayerSpec> check = BuildLayerSpecs(sliced);
  for (size_t k = 0; k < check.size(); ++k) {
    const LayerSpec& original = plan.specs[k];
    const bool same = check[k].kv_shared == original.kv_shared &&
                      (!original.kv_shared || plan.kept[check[k].kv_source] == original.kv_source);
    if (!same) return bad(absl::StrCat("layer ", original.index, " would read other K/V in the sliced model"));
  }
  plan.effective_params = EffectiveParameters(sliced);
  return plan;
}

}  // namespace gemma3n
