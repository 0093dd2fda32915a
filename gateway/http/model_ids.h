// The model ids the HTTP API serves: the served name (the full model) and
// NAME:PROFILE for each MatFormer profile, and which profile an id picks.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace gemma3n::http {

// --served-model-name's default: the model directory's basename, or for a
// hub cache snapshot (.../models--ORG--NAME/snapshots/REV) the NAME part.
std::string DefaultServedModelName(const std::string& model_dir);

// Every id GET /v1/models lists: `name`, then `name:P` for each profile.
std::vector<std::string> ModelIds(const std::string& name, const std::vector<std::string>& profiles);

// The GenerationConfig.profile a request's `model` picks: "" for `name` or an
// empty model (OpenAI requires the field; a missing one means the default
// model here), P for `name:P` when P is one of `profiles`; NotFound
// (model_not_found) otherwise.
absl::StatusOr<std::string> ProfileOfModel(const std::string& model, const std::string& name,
                                           const std::vector<std::string>& profiles);

}  // namespace gemma3n::http
