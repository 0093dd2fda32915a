#include "common/hub/model_flag.h"

#include "common/hub/hub_cache.h"
#include "common/status/status_macros.h"

namespace gemma3n::hub {

absl::StatusOr<std::string> ModelDirFlag(const Args& args) {
  ASSIGN_OR_RETURN(const std::string model, args.Required("model"));
  return ResolveModelDir(model);
}

}  // namespace gemma3n::hub
