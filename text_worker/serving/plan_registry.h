// The MatFormer sizes a running text worker offers: the published profiles
// (plus any from --profiles FILE) that apply to the loaded checkpoint, each
// planned once and kept for the worker's life, so sequences can point at them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/model_config.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/matformer/slicing_profile.h"

namespace gemma3n {

class PlanRegistry {
 public:
  // config: the loaded checkpoint's; extra: profiles read from a CSV,
  // searched before the published ones.
  PlanRegistry(const TextConfig& config, std::vector<SlicingProfile> extra);

  // "" = the full model (null). NotFound / InvalidArgument say why otherwise.
  absl::StatusOr<const ElasticPlan*> Find(const std::string& name) const;
  // Aliases (or names) of the profiles that apply to this checkpoint.
  const std::vector<std::string>& names() const { return names_; }

 private:
  std::vector<SlicingProfile> profiles_;
  std::map<std::string, std::shared_ptr<const ElasticPlan>> plans_;  // by name and alias: one object each
  std::vector<std::string> names_;
};

}  // namespace gemma3n
