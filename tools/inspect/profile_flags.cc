#include "tools/inspect/profile_flags.h"

#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"
#include "text_worker/matformer/slicing_profile.h"

namespace gemma3n::inspect {

absl::StatusOr<std::optional<ElasticPlan>> PlanFromArgs(const Args& args, const TextModel& model) {
  auto name = args.Get("profile");
  if (!name) {
    if (args.Has("profiles")) return absl::InvalidArgumentError("--profiles needs --profile NAME");
    return std::nullopt;
  }
  std::vector<SlicingProfile> profiles;
  if (auto file = args.Get("profiles")) {
    ASSIGN_OR_RETURN(profiles, LoadSlicingProfiles(*file));
  }
  profiles.insert(profiles.end(), PublishedProfiles().begin(), PublishedProfiles().end());
  ASSIGN_OR_RETURN(SlicingProfile profile, FindProfile(profiles, *name));
  ASSIGN_OR_RETURN(ElasticPlan plan, model.Plan(profile));
  spdlog::info("profile '{}': {} of {} layers, {:.3f}B effective parameters", profile.name, plan.kept.size(),
               model.text_config().num_hidden_layers, plan.effective_params / 1e9);
  return plan;
}

}  // namespace gemma3n::inspect
