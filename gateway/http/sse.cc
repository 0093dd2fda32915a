#include "gateway/http/sse.h"

namespace gemma3n::http {

std::string JsonText(const nlohmann::json& value) {
  return value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string SseEvent(const nlohmann::json& chunk) { return "data: " + JsonText(chunk) + "\n\n"; }

std::string SseDone() { return "data: [DONE]\n\n"; }

}  // namespace gemma3n::http
