#include "common/logging/log.h"

#include <cstdlib>
#include <string>

#include "spdlog/sinks/stdout_color_sinks.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

void InitLogging() {
  auto logger = spdlog::stderr_color_mt("gemma3n");
  spdlog::set_default_logger(logger);
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%L%$ [%t] %v");
  const char* level = std::getenv("GEMMA3N_LOG_LEVEL");
  spdlog::set_level(level ? spdlog::level::from_str(level) : spdlog::level::info);
}

}  // namespace gemma3n
