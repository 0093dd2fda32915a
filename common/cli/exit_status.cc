#include "common/cli/exit_status.h"

#include <cstdio>

namespace gemma3n {

int ExitWithStatus(const std::string& tool, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), std::string(status.message()).c_str());
  return status.code() == absl::StatusCode::kInvalidArgument ? 2 : 1;
}

}  // namespace gemma3n
