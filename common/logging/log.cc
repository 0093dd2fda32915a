#include "common/logging/log.h"

#include <cstdlib>
#include <string>

#include "absl/strings/str_cat.h"
#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

void InitLogging(const std::string& component) {
  if (spdlog::get("gemma3n")) return;
  auto logger = spdlog::stderr_color_mt("gemma3n");
  spdlog::set_default_logger(logger);
  // The component name tells apart the processes of `gemma3n serve`, which
  // share one terminal.
  const std::string tag = component.empty() ? "" : component + " ";
  spdlog::set_pattern(tag.empty() ? "%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%t] %v"
                                  : "%Y-%m-%dT%H:%M:%S.%e %^%L%$ " + tag + "[%t] %v");
  const char* level = std::getenv("GEMMA3N_LOG_LEVEL");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
}

absl::Status SetLogLevel(const std::string& name) {
  const spdlog::level::level_enum level = spdlog::level::from_str(name);
  // from_str maps anything unknown to "off": only accept real names.
  if (level == spdlog::level::off && name != "off") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: '", name, "' is not one of trace, debug, info, warn, error, critical, off"));
  }
  spdlog::set_level(level);
  return absl::OkStatus();
}

}  // namespace gemma3n
