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

namespace {

// Appends to the last run when it is of the same kind; skips empty text.
void Append(std::vector<TemplateRun>& runs, bool message_text, const std::string& text) {
  if (text.empty()) return;
  if (runs.empty() || runs.back().message_text != message_text) runs.push_back({message_text, ""});
  runs.back().text += text;
}

}  // namespace

absl::StatusOr<std::vector<TemplateRun>> ApplyChatTemplateRuns(const std::vector<ChatMessage>& messages,
                                                               const ChatTemplateOptions& options) {
  if (messages.empty()) return absl::InvalidArgumentError("the conversation has no messages");
  std::vector<TemplateRun> runs;
  Append(runs, false, kBos);
  size_t first = 0;
  if (messages[0].role == "system") {
    for (const ChatPart& p : messages[0].parts) {
      if (p.kind != ChatPart::Kind::kText) {
        return absl::InvalidArgumentError("a system message can hold text only");
      }
    }
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
    Append(runs, false, absl::StrCat("<start_of_turn>", role, "\n"));
    if (i == first && first == 1) {  // the system text folds into the first turn
      for (const ChatPart& p : messages[0].parts) Append(runs, true, Trim(p.text));
      Append(runs, false, "\n\n");
    }
    for (const ChatPart& p : m.parts) {
      switch (p.kind) {
        case ChatPart::Kind::kText: Append(runs, true, Trim(p.text)); break;
        case ChatPart::Kind::kImage: Append(runs, false, kImageToken); break;
        case ChatPart::Kind::kAudio: Append(runs, false, kAudioToken); break;
      }
    }
    Append(runs, false, "<end_of_turn>\n");
  }
  if (first == messages.size()) {
    return absl::InvalidArgumentError("the conversation has only a system message");
  }
  if (options.add_generation_prompt) Append(runs, false, "<start_of_turn>model\n");
  return runs;
}

absl::StatusOr<std::string> ApplyChatTemplate(const std::vector<ChatMessage>& messages,
                                              const ChatTemplateOptions& options) {
  ASSIGN_OR_RETURN(std::vector<TemplateRun> runs, ApplyChatTemplateRuns(messages, options));
  std::string out;
  for (const TemplateRun& run : runs) out += run.text;
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
  ASSIGN_OR_RETURN(std::vector<TemplateRun> runs, ApplyChatTemplateRuns(messages, options));
  std::vector<int> ids;
  for (size_t i = 0; i < runs.size(); ++i) {
    absl::string_view text = runs[i].text;
    const bool bos = i == 0 && absl::ConsumePrefix(&text, kBos);
    // Message runs lie between newlines or control tokens, where both
    // tokenizers split anyway: encoding the runs apart gives the ids of the
    // joined text (the chat goldens hold it).
    const std::vector<int> part = runs[i].message_text
                                      ? tokenizer.EncodeText(text)
                                      : tokenizer.Encode(ExpandMediaPlaceholders(std::string(text), options), bos);
    ids.insert(ids.end(), part.begin(), part.end());
  }
  return ids;
}

}  // namespace gemma3n
