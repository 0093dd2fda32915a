// The vision block specs compiled into the binary, by architecture name.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

absl::StatusOr<nlohmann::json> BuiltinVisionSpec(const std::string& architecture);

}  // namespace gemma3n
