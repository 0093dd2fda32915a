// From a public GenerateRequest to what the text worker runs: the chat
// template applied (or a raw prompt), media placeholders expanded, and the
// encoders' soft tokens attached to their placeholder runs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "common/config/model_config.h"
#include "common/tokenizer/tokenizer.h"
#include "gemma3n/internal/v1/internal.pb.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n {

// One media part's encoding: an image gives one span, audio one per 30 s window.
struct EncodedMedia {
  enum class Kind { kImage, kAudio } kind = Kind::kImage;
  std::vector<gemma3n::internal::v1::SoftTokens> spans;
};

struct BuiltPrompt {
  std::vector<int> ids;
  std::vector<gemma3n::internal::v1::SoftTokenSpan> soft;  // ascending positions
  int images = 0;
  int audio_spans = 0;
};

// Safe bounds on a conversation's shape, checked before any media is encoded
// or text tokenized (a request of 200,000 parts costs nothing to refuse).
inline constexpr int kMaxMessagesPerRequest = 1024;
inline constexpr int kMaxPartsPerMessage = 256;

// InvalidArgument naming the message or part: more than the bounds above, a
// part of no kind, a message with no content (it needs non-whitespace text,
// an image or audio), a role or text that is not valid UTF-8.
absl::Status ValidateMessages(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages);
// InvalidArgument "`field` is not valid UTF-8" unless `text` is.
absl::Status CheckUtf8(absl::string_view field, absl::string_view text);

// The media parts of the messages in order (image and audio parts), for the
// encoders, after ValidateMessages. InvalidArgument for an empty media part.
struct MediaPart {
  EncodedMedia::Kind kind;
  const gemma3n::v1::Media* media;
};
absl::StatusOr<std::vector<MediaPart>> CollectMedia(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages);

// The least a request takes of the context, known before any encoder runs
// or any text is tokenized: each image its soft tokens, each audio clip at
// least one 30 s span, plus the begin/end markers around each, and its text
// (the messages' text parts and the raw prompt) at least
// Tokenizer::LeastTokensOf its bytes. InvalidArgument with the counts when
// that alone leaves no room for a generated token (1000 images used to be
// encoded for minutes, and 16 MB of text tokenized for 35 s, before the
// context check said no).
absl::Status CheckFitsContext(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages,
                              const std::string& prompt, const std::vector<MediaPart>& parts,
                              const Tokenizer& tokenizer, const ModelConfig& config, int64_t context_limit);

// `media[i]` is the encoding of the i-th part CollectMedia returned. Every
// run of soft-token placeholders needs its encoding: a raw prompt, which has
// no media, may hold none (InvalidArgument, the chat path's rule and message).
absl::StatusOr<BuiltPrompt> BuildPrompt(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages,
                                        const std::string& raw_prompt, const std::vector<EncodedMedia>& media,
                                        const Tokenizer& tokenizer, const ModelConfig& config);

}  // namespace gemma3n
