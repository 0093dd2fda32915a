// From a public GenerateRequest to what the text worker runs: the chat
// template applied (or a raw prompt), media placeholders expanded, and the
// encoders' soft tokens attached to their placeholder runs.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
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

// The media parts of the messages in order (image and audio parts), for the
// encoders. InvalidArgument for an empty media part or media in a raw prompt.
struct MediaPart {
  EncodedMedia::Kind kind;
  const gemma3n::v1::Media* media;
};
absl::StatusOr<std::vector<MediaPart>> CollectMedia(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages);

// `media[i]` is the encoding of the i-th part CollectMedia returned.
absl::StatusOr<BuiltPrompt> BuildPrompt(const google::protobuf::RepeatedPtrField<gemma3n::v1::Message>& messages,
                                        const std::string& raw_prompt, const std::vector<EncodedMedia>& media,
                                        const Tokenizer& tokenizer, const ModelConfig& config);

}  // namespace gemma3n
