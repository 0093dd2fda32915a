#include "common/tokenizer/chat_template.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"

namespace gemma3n {
namespace {

constexpr char kBos[] = "<bos>";

std::string Repeat(const std::string& s, int n) {
  std::string out;
  out.reserve(s.size() * n);
  for (int i = 0; i < n; ++i) out += s;
  return out;
}

// Python's str.strip() as the Jinja `trim` filter applies it.
std::string Trim(const std::string& s) { return std::string(absl::StripAsciiWhitespace(s)); }

}  // namespace

ChatTemplateOptions ChatTemplateOptions::ForModel(const ModelConfig& config) {
  ChatTemplateOptions o;
  o.image_soft_tokens = config.vision_soft_tokens_per_image;
  o.audio_soft_tokens = config.audio_soft_tokens_per_image;
  return o;
}

absl::StatusOr<std::string> ApplyChatTemplate(const std::vector<ChatMessage>& messages,
                                              const ChatTemplateOptions& options) {
  if (messages.empty()) return absl::InvalidArgumentError("the conversation has no messages");
  std::string out = kBos;
  std::string system_prefix;
  size_t first = 0;
  if (messages[0].role == "system") {
    for (const ChatPart& p : messages[0].parts) {
      if (p.kind != ChatPart::Kind::kText) {
        return absl::InvalidArgumentError("a system message can hold text only");
      }
      system_prefix += Trim(p.text);
    }
    system_prefix += "\n\n";
    first = 1;
  }
  for (size_t i = first; i < messages.size(); ++i) {
    const ChatMessage& m = messages[i];
    std::string role;
    if (m.role == "user") {
      role = "user";
    } else if (m.role == "model" || m.role == "assistant") {
      role = "model";
    } else if (m.role == "system") {
      return absl::InvalidArgumentError(absl::StrCat("message ", i, ": a system message must come first"));
    } else {
      return absl::InvalidArgumentError(
          absl::StrCat("message ", i, ": unknown role '", m.role, "' (use system, user or model)"));
    }
    absl::StrAppend(&out, "<start_of_turn>", role, "\n", i == first ? system_prefix : "");
    for (const ChatPart& p : m.parts) {
      switch (p.kind) {
        case ChatPart::Kind::kText: out += Trim(p.text); break;
        case ChatPart::Kind::kImage: out += kImageToken; break;
        case ChatPart::Kind::kAudio: out += kAudioToken; break;
      }
    }
    out += "<end_of_turn>\n";
  }
  if (first == messages.size()) {
    return absl::InvalidArgumentError("the conversation has only a system message");
  }
  if (options.add_generation_prompt) out += "<start_of_turn>model\n";
  return out;
}

std::string ExpandMediaPlaceholders(const std::string& text, const ChatTemplateOptions& options) {
  // Audio first, then images, as the reference processor does; the expanded
  // spans contain the placeholder itself, so each pass runs once.
  std::string out = absl::StrReplaceAll(
      text, {{kAudioToken, absl::StrCat("\n\n<start_of_audio>", Repeat(kAudioToken, options.audio_soft_tokens),
                                        "<end_of_audio>\n\n")}});
  return absl::StrReplaceAll(
      out, {{kImageToken, absl::StrCat("\n\n<start_of_image>", Repeat(kImageToken, options.image_soft_tokens),
                                       "<end_of_image>\n\n")}});
}

absl::StatusOr<std::vector<int>> EncodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                            const ChatTemplateOptions& options) {
  ASSIGN_OR_RETURN(std::string text, ApplyChatTemplate(messages, options));
  absl::string_view body = text;
  const bool bos = absl::ConsumePrefix(&body, kBos);
  return tokenizer.Encode(ExpandMediaPlaceholders(std::string(body), options), bos);
}

}  // namespace gemma3n
