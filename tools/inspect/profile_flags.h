// --profile NAME [--profiles FILE]: the MatFormer sub-model a command runs.
#pragma once

#include <optional>

#include "absl/status/statusor.h"
#include "common/cli/args.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/text_model.h"

namespace gemma3n::inspect {

// No --profile: nullopt (the full model). Otherwise the profile, by name or
// alias, from --profiles FILE first, then the published ones, checked against
// the model.
absl::StatusOr<std::optional<ElasticPlan>> PlanFromArgs(const Args& args, const TextModel& model);

}  // namespace gemma3n::inspect
