// Server-sent events as OpenAI streams them: one `data: <json>` event per
// chunk, then `data: [DONE]`.
#pragma once

#include <string>

#include "nlohmann/json.hpp"

namespace gemma3n::http {

// "data: <compact json>\n\n" (text that is not valid UTF-8 is replaced, never thrown on).
std::string SseEvent(const nlohmann::json& chunk);
// "data: [DONE]\n\n"
std::string SseDone();
// The body a JSON reply gets (same UTF-8 handling as SseEvent).
std::string JsonText(const nlohmann::json& value);

}  // namespace gemma3n::http
