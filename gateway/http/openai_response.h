// gemma3n.v1 replies -> OpenAI response objects, pure functions: the
// chat.completion / text_completion objects, their streaming chunks, usage,
// finish reasons and the model list.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gemma3n/v1/gemma.pb.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {

// Which object family a generation answers with.
enum class Endpoint { kChat, kCompletion };

// What every object of one reply repeats.
struct ReplyMeta {
  Endpoint endpoint = Endpoint::kChat;
  std::string id;      // chatcmpl-... / cmpl-...
  std::string model;   // echoed as the client named it (the served name when it named none)
  int64_t created = 0; // unix seconds
};

// "stop" for end of turn / a stop string, "length" for max tokens / a full
// context, null while running.
nlohmann::json FinishReasonJson(v1::FinishReason reason);
// {prompt_tokens, completion_tokens, total_tokens,
//  prompt_tokens_details: {cached_tokens}} (OpenAI's names; cached: the
//  prefix cache's share of the prompt)
nlohmann::json UsageJson(const v1::Usage& usage);

// The whole reply, stream false: chat.completion or text_completion.
nlohmann::json CompletionObject(const ReplyMeta& meta, const std::string& text, v1::FinishReason finish,
                                const v1::Usage& usage);

// Streaming chunks. Chat's first chunk carries delta.role; then text
// deltas; the last has finish_reason; with include_usage a final chunk of
// empty choices carries usage.
nlohmann::json RoleChunk(const ReplyMeta& meta);
nlohmann::json TextChunk(const ReplyMeta& meta, const std::string& text);
nlohmann::json FinishChunk(const ReplyMeta& meta, v1::FinishReason finish);
nlohmann::json UsageChunk(const ReplyMeta& meta, const v1::Usage& usage);

// GET /v1/models: {object: list, data: [{id, object: model, created, owned_by}]}.
nlohmann::json ModelList(const std::vector<std::string>& ids, int64_t created);

}  // namespace gemma3n::http
