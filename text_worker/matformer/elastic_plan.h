// A slicing profile applied to a loaded checkpoint: which layers run, at which
// FFN width, with which sparsity and KV sharing. The text model runs a plan
// directly on the full weights ("elastic execution": prefix views of the FFN
// matrices, skipped layers jumped over, nothing copied), and gemma3n-slice
// writes the same sub-model as a checkpoint of its own.
//
// Rules (MatFormer Lab): kept layers keep their own attention type; FFN width
// d keeps the first d rows of gate/up and the first d columns of down; the
// activation-sparsity pattern and the KV-sharing split are restricted to the
// kept layers; the layers whose K/V the shared layers read cannot be skipped.
#pragma once

#include <cstdint>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/model_config.h"
#include "text_worker/matformer/slicing_profile.h"
#include "text_worker/model/layer_spec.h"

namespace gemma3n {

struct ElasticPlan {
  SlicingProfile profile;
  std::vector<int> kept;          // original indices of the layers that run
  std::vector<LayerSpec> specs;   // one per kept layer (index = original index)
  TextConfig sliced_config;       // text_config of the equivalent sliced checkpoint
  int64_t effective_params = 0;   // language model without embed_tokens(_per_layer)
};

// InvalidArgument saying why a profile cannot apply to this checkpoint.
absl::StatusOr<ElasticPlan> PlanProfile(const TextConfig& full, const SlicingProfile& profile);

// Parameters of model.language_model except embed_tokens and
// embed_tokens_per_layer, for a config (what the Lab prints).
int64_t EffectiveParameters(const TextConfig& config);

}  // namespace gemma3n
