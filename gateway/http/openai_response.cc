#include "gateway/http/openai_response.h"

namespace gemma3n::http {

namespace pb = gemma3n::v1;
using nlohmann::json;

namespace {

const char* ObjectName(const ReplyMeta& meta, bool chunk) {
  if (meta.endpoint == Endpoint::kCompletion) return "text_completion";
  return chunk ? "chat.completion.chunk" : "chat.completion";
}

json Envelope(const ReplyMeta& meta, bool chunk, json choices) {
  return {{"id", meta.id}, {"object", ObjectName(meta, chunk)}, {"created", meta.created},
          {"model", meta.model}, {"choices", std::move(choices)}};
}

// One streamed choice: chat puts text in `delta`, completions in `text`.
json StreamChoice(const ReplyMeta& meta, json delta_or_text, json finish) {
  json choice = {{"index", 0}, {"finish_reason", std::move(finish)}};
  if (meta.endpoint == Endpoint::kChat) {
    choice["delta"] = std::move(delta_or_text);
  } else {
    choice["text"] = std::move(delta_or_text);
  }
  choice["logprobs"] = nullptr;
  return choice;
}

}  // namespace

json FinishReasonJson(pb::FinishReason reason) {
  switch (reason) {
    case pb::FINISH_REASON_STOP:
    case pb::FINISH_REASON_STOP_STRING:
      return "stop";
    case pb::FINISH_REASON_MAX_TOKENS:
    case pb::FINISH_REASON_CONTEXT_FULL:
      return "length";
    default:
      return nullptr;
  }
}

json UsageJson(const pb::Usage& usage) {
  return {{"prompt_tokens", usage.prompt_tokens()},
          {"completion_tokens", usage.generated_tokens()},
          {"total_tokens", usage.prompt_tokens() + usage.generated_tokens()},
          {"prompt_tokens_details", {{"cached_tokens", usage.cached_prompt_tokens()}}}};
}

json CompletionObject(const ReplyMeta& meta, const std::string& text, pb::FinishReason finish,
                      const pb::Usage& usage) {
  json choice = {{"index", 0}, {"finish_reason", FinishReasonJson(finish)}, {"logprobs", nullptr}};
  if (meta.endpoint == Endpoint::kChat) {
    choice["message"] = {{"role", "assistant"}, {"content", text}};
  } else {
    choice["text"] = text;
  }
  json out = Envelope(meta, false, json::array({std::move(choice)}));
  out["usage"] = UsageJson(usage);
  return out;
}

json RoleChunk(const ReplyMeta& meta) {
  return Envelope(meta, true, json::array({StreamChoice(meta, {{"role", "assistant"}, {"content", ""}}, nullptr)}));
}

json TextChunk(const ReplyMeta& meta, const std::string& text) {
  json delta = meta.endpoint == Endpoint::kChat ? json{{"content", text}} : json(text);
  return Envelope(meta, true, json::array({StreamChoice(meta, std::move(delta), nullptr)}));
}

json FinishChunk(const ReplyMeta& meta, pb::FinishReason finish) {
  json empty = meta.endpoint == Endpoint::kChat ? json::object() : json("");
  return Envelope(meta, true, json::array({StreamChoice(meta, std::move(empty), FinishReasonJson(finish))}));
}

json UsageChunk(const ReplyMeta& meta, const pb::Usage& usage) {
  json out = Envelope(meta, true, json::array());
  out["usage"] = UsageJson(usage);
  return out;
}

json ModelList(const std::vector<std::string>& ids, int64_t created) {
  json data = json::array();
  for (const std::string& id : ids) {
    data.push_back({{"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "google"}});
  }
  return {{"object", "list"}, {"data", std::move(data)}};
}

}  // namespace gemma3n::http
