#include "common/cli/exit_status.h"

#include <cstdio>

namespace gemma3n {

int ExitWithStatus(const std::string& tool, const absl::Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "%s: %s\n", tool.c_str(), std::string(status.message()).c_str());
  return ExitCodeFor(status);
}

int ExitCodeFor(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kOk: return 0;
    // Bad flags, input or files: starting again cannot help (serve stops
    // instead of restarting a process that exits 2).
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kNotFound:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kUnimplemented:
    case absl::StatusCode::kPermissionDenied:
      return 2;
    default: return 1;  // e.g. UNAVAILABLE: a peer that may come back
  }
}

int RunToolMain(int argc, char** argv, const std::string& tool, const std::string& usage,
                const std::function<absl::Status(const std::vector<std::string>&)>& run) {
  if (argc > 1 && (std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h")) {
    std::fputs(usage.c_str(), stdout);
    return 0;
  }
  return ExitWithStatus(tool, run(std::vector<std::string>(argv + 1, argv + argc)));
}

}  // namespace gemma3n
