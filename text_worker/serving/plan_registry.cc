#include "text_worker/serving/plan_registry.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/status/status_macros.h"

namespace gemma3n {

PlanRegistry::PlanRegistry(const TextConfig& config, std::vector<SlicingProfile> extra) : profiles_(std::move(extra)) {
  profiles_.insert(profiles_.end(), PublishedProfiles().begin(), PublishedProfiles().end());
  for (const SlicingProfile& p : profiles_) {
    if (plans_.count(p.name)) continue;  // an earlier (user) profile of that name wins
    absl::StatusOr<ElasticPlan> plan = PlanProfile(config, p);
    if (!plan.ok()) continue;  // e.g. an E4B profile on a model of another depth
    auto shared = std::make_shared<const ElasticPlan>(*std::move(plan));
    plans_[p.name] = shared;
    if (!p.alias.empty()) plans_.emplace(p.alias, shared);
    names_.push_back(p.alias.empty() ? p.name : p.alias);
  }
}

absl::StatusOr<const ElasticPlan*> PlanRegistry::Find(const std::string& name) const {
  if (name.empty()) return nullptr;
  auto it = plans_.find(name);
  if (it != plans_.end()) return it->second.get();
  // Say why: unknown, or known but not applicable to this checkpoint.
  ASSIGN_OR_RETURN(SlicingProfile p, FindProfile(profiles_, name));
  return absl::InvalidArgumentError(
      absl::StrCat("profile '", name, "' (", p.name, ") does not apply to the loaded model; it offers: ",
                   names_.empty() ? std::string("none") : absl::StrJoin(names_, ", ")));
}

}  // namespace gemma3n
