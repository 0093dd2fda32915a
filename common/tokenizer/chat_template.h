// The Gemma 3n chat template and the processor's media placeholder expansion.
//   <bos><start_of_turn>user\n{system}\n\n{parts}<end_of_turn>\n
//   <start_of_turn>model\n{parts}<end_of_turn>\n ... <start_of_turn>model\n
// Text parts are whitespace-trimmed; an image part is <image_soft_token>, an
// audio part <audio_soft_token>. Expansion then turns each of them into
// "\n\n<start_of_image>" + N x <image_soft_token> + "<end_of_image>\n\n"
// (audio: <start_of_audio> ... <end_of_audio>), audio first, as
// processing_gemma3n.py does. Message text is tokenized as text
// (Tokenizer::EncodeText): a "<end_of_turn>" a user types stays characters;
// only the template writes control tokens.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/config/model_config.h"
#include "common/tokenizer/tokenizer.h"

namespace gemma3n {

struct ChatPart {
  enum class Kind { kText, kImage, kAudio };
  Kind kind = Kind::kText;
  std::string text;
  static ChatPart Text(std::string t) { return {Kind::kText, std::move(t)}; }
  static ChatPart Image() { return {Kind::kImage, ""}; }
  static ChatPart Audio() { return {Kind::kAudio, ""}; }
};

struct ChatMessage {
  std::string role;  // system | user | model | assistant
  std::vector<ChatPart> parts;
};

struct ChatTemplateOptions {
  bool add_generation_prompt = true;
  int image_soft_tokens = 256;  // vision_soft_tokens_per_image
  int audio_soft_tokens = 188;  // audio_soft_tokens_per_image
  static ChatTemplateOptions ForModel(const ModelConfig& config);
};

inline constexpr char kImageToken[] = "<image_soft_token>";
inline constexpr char kAudioToken[] = "<audio_soft_token>";

// A stretch of the template's output: the template's own text (control
// tokens and placeholders in it are meant) or message text (tokenized as
// text). Adjacent runs have different kinds; message runs are never empty.
struct TemplateRun {
  bool message_text = false;
  std::string text;
};

// The template's output as runs, the first starting with "<bos>", before
// placeholder expansion. InvalidArgument: no messages, unknown role, a system
// message not first, media in a system message.
absl::StatusOr<std::vector<TemplateRun>> ApplyChatTemplateRuns(const std::vector<ChatMessage>& messages,
                                                               const ChatTemplateOptions& options);
// The runs' text joined (what the reference template renders).
absl::StatusOr<std::string> ApplyChatTemplate(const std::vector<ChatMessage>& messages,
                                              const ChatTemplateOptions& options);
// Expands every media placeholder into its full soft-token span.
std::string ExpandMediaPlaceholders(const std::string& text, const ChatTemplateOptions& options);
// Template + expansion of the template's placeholders + tokenization (the
// template's <bos> becomes the BOS id; message text through EncodeText).
absl::StatusOr<std::vector<int>> EncodeChat(const Tokenizer& tokenizer, const std::vector<ChatMessage>& messages,
                                            const ChatTemplateOptions& options);

}  // namespace gemma3n
