#include "gateway/prompt_builder.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/chat_template.h"
#include "common/tokenizer/utf8.h"

namespace gemma3n {

namespace pb = gemma3n::v1;
namespace ipb = gemma3n::internal::v1;

absl::Status CheckUtf8(absl::string_view field, absl::string_view text) {
  if (IsValidUtf8(text)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(field, " is not valid UTF-8"));
}

namespace {

// Whether a part gives its message content: media, or text the template's
// trim leaves something of.
bool HasContent(const pb::Part& part) {
  return !part.has_text() || !absl::StripAsciiWhitespace(part.text()).empty();
}

absl::Status ValidateMessage(const pb::Message& message, int m) {
  const std::string name = absl::StrCat("messages[", m, "]");
  if (message.parts_size() > kMaxPartsPerMessage) {
    return absl::InvalidArgumentError(absl::StrCat(name, " has ", message.parts_size(), " parts, more than the ",
                                                   kMaxPartsPerMessage, " a message may hold"));
  }
  RETURN_IF_ERROR(CheckUtf8(absl::StrCat(name, ".role"), message.role()));
  bool content = false;
  for (int p = 0; p < message.parts_size(); ++p) {
    const pb::Part& part = message.parts(p);
    if (part.kind_case() == pb::Part::KIND_NOT_SET) {
      return absl::InvalidArgumentError(absl::StrCat(name, ".parts[", p, "] is empty"));
    }
    if (part.has_text()) RETURN_IF_ERROR(CheckUtf8(absl::StrCat(name, ".parts[", p, "].text"), part.text()));
    content = content || HasContent(part);
  }
  if (!content) {
    return absl::InvalidArgumentError(
        absl::StrCat(name, " has no content (it needs a part with non-whitespace text, an image or audio)"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateMessages(const google::protobuf::RepeatedPtrField<pb::Message>& messages) {
  if (messages.size() > kMaxMessagesPerRequest) {
    return absl::InvalidArgumentError(absl::StrCat("the request has ", messages.size(), " messages, more than the ",
                                                   kMaxMessagesPerRequest, " allowed"));
  }
  for (int m = 0; m < messages.size(); ++m) RETURN_IF_ERROR(ValidateMessage(messages[m], m));
  return absl::OkStatus();
}

absl::StatusOr<std::vector<MediaPart>> CollectMedia(const google::protobuf::RepeatedPtrField<pb::Message>& messages) {
  RETURN_IF_ERROR(ValidateMessages(messages));
  std::vector<MediaPart> out;
  for (int m = 0; m < messages.size(); ++m) {
    for (int p = 0; p < messages[m].parts_size(); ++p) {
      const pb::Part& part = messages[m].parts(p);
      if (part.has_text()) continue;
      const pb::Media& media = part.has_image() ? part.image() : part.audio();
      if (media.data().empty()) {
        return absl::InvalidArgumentError(absl::StrCat("messages[", m, "].parts[", p, "]: the ",
                                                       part.has_image() ? "image" : "audio", " has no data"));
      }
      out.push_back({part.has_image() ? EncodedMedia::Kind::kImage : EncodedMedia::Kind::kAudio, &media});
    }
  }
  return out;
}

absl::Status CheckFitsContext(const google::protobuf::RepeatedPtrField<pb::Message>& messages,
                              const std::string& prompt, const std::vector<MediaPart>& parts,
                              const Tokenizer& tokenizer, const ModelConfig& config, int64_t context_limit) {
  constexpr int64_t kMarkers = 2;  // <start_of_image> ... <end_of_image> (audio alike)
  int64_t images = 0, clips = 0;
  for (const MediaPart& p : parts) (p.kind == EncodedMedia::Kind::kImage ? images : clips)++;
  const int64_t media = images * (config.vision_soft_tokens_per_image + kMarkers) +
                        clips * (config.audio_soft_tokens_per_image + kMarkers);
  int64_t text_bytes = static_cast<int64_t>(prompt.size());
  for (const pb::Message& m : messages) {
    for (const pb::Part& part : m.parts()) text_bytes += static_cast<int64_t>(part.text().size());
  }
  const int64_t text = tokenizer.LeastTokensOf(text_bytes);
  if (media + text < context_limit) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      images, " image(s), ", clips, " audio clip(s) and ", text_bytes, " bytes of text take at least ", media + text,
      " tokens; the context holds ", context_limit, " (prompt + at least one generated token): send less"));
}

namespace {

// Starts of the runs of `id` in `ids`, with their lengths.
std::vector<std::pair<int, int>> Runs(const std::vector<int>& ids, int id) {
  std::vector<std::pair<int, int>> runs;
  for (size_t i = 0; i < ids.size();) {
    if (ids[i] != id) {
      ++i;
      continue;
    }
    size_t j = i;
    while (j < ids.size() && ids[j] == id) ++j;
    runs.push_back({static_cast<int>(i), static_cast<int>(j - i)});
    i = j;
  }
  return runs;
}

// Attaches spans to the placeholder runs of `placeholder`, in order.
absl::Status Attach(const std::vector<int>& ids, int placeholder, const std::vector<const ipb::SoftTokens*>& spans,
                    const char* what, std::vector<ipb::SoftTokenSpan>& out) {
  const auto runs = Runs(ids, placeholder);
  if (runs.size() != spans.size()) {
    return absl::InvalidArgumentError(absl::StrCat("the prompt has ", runs.size(), " ", what,
                                                   " placeholder runs but ", spans.size(), " ", what,
                                                   " encodings (", what, " soft tokens come only from ", what,
                                                   " parts)"));
  }
  for (size_t i = 0; i < runs.size(); ++i) {
    if (runs[i].second != spans[i]->rows()) {
      return absl::InternalError(absl::StrCat(what, " ", i, ": the encoder gave ", spans[i]->rows(),
                                              " soft tokens, the prompt holds ", runs[i].second));
    }
    ipb::SoftTokenSpan s;
    s.set_position(runs[i].first);
    *s.mutable_tokens() = *spans[i];
    out.push_back(std::move(s));
  }
  return absl::OkStatus();
}

// Gives each placeholder run of `out.ids` its span from `media`, in order.
absl::Status AttachMedia(const std::vector<EncodedMedia>& media, const ModelConfig& config, BuiltPrompt& out) {
  std::vector<const ipb::SoftTokens*> images, audio;
  for (const EncodedMedia& e : media) {
    for (const ipb::SoftTokens& s : e.spans) (e.kind == EncodedMedia::Kind::kImage ? images : audio).push_back(&s);
  }
  out.images = static_cast<int>(images.size());
  out.audio_spans = static_cast<int>(audio.size());
  RETURN_IF_ERROR(Attach(out.ids, config.image_token_id, images, "image", out.soft));
  RETURN_IF_ERROR(Attach(out.ids, config.audio_token_id, audio, "audio", out.soft));
  std::sort(out.soft.begin(), out.soft.end(),
            [](const ipb::SoftTokenSpan& a, const ipb::SoftTokenSpan& b) { return a.position() < b.position(); });
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<BuiltPrompt> BuildPrompt(const google::protobuf::RepeatedPtrField<pb::Message>& messages,
                                        const std::string& raw_prompt, const std::vector<EncodedMedia>& media,
                                        const Tokenizer& tokenizer, const ModelConfig& config) {
  BuiltPrompt out;
  if (messages.empty() == raw_prompt.empty()) {
    return absl::InvalidArgumentError("give either messages (chat) or prompt (raw text), not both or neither");
  }
  if (!raw_prompt.empty()) {  // the explicit raw mode: control tokens in it are meant
    RETURN_IF_ERROR(CheckUtf8("prompt", raw_prompt));
    out.ids = tokenizer.Encode(raw_prompt, /*add_bos=*/true);
    RETURN_IF_ERROR(AttachMedia({}, config, out));
    return out;
  }
  RETURN_IF_ERROR(ValidateMessages(messages));
  std::vector<ChatMessage> chat;
  size_t next_media = 0;
  for (const pb::Message& m : messages) {
    ChatMessage cm;
    cm.role = m.role();
    for (const pb::Part& part : m.parts()) {
      if (part.has_text()) {
        cm.parts.push_back(ChatPart::Text(part.text()));
        continue;
      }
      if (next_media >= media.size()) return absl::InternalError("a media part has no encoding");
      const EncodedMedia& e = media[next_media++];
      for (size_t s = 0; s < e.spans.size(); ++s) {
        cm.parts.push_back(e.kind == EncodedMedia::Kind::kImage ? ChatPart::Image() : ChatPart::Audio());
      }
    }
    chat.push_back(std::move(cm));
  }
  ChatTemplateOptions options = ChatTemplateOptions::ForModel(config);
  ASSIGN_OR_RETURN(out.ids, EncodeChat(tokenizer, chat, options));
  RETURN_IF_ERROR(AttachMedia(media, config, out));
  return out;
}

}  // namespace gemma3n
