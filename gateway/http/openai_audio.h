// /v1/audio/transcriptions and /v1/audio/translations, pure functions: the
// multipart form -> gemma3n.v1.TranscribeRequest, and the reply in the
// response_format asked (json, text, verbose_json).
#pragma once

#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "gemma3n/v1/gemma.pb.h"

namespace gemma3n::http {

struct FormField {
  std::string content;
  std::string filename;
  std::string content_type;
};
using Form = std::map<std::string, FormField>;  // by field name

enum class TranscriptFormat { kJson, kText, kVerboseJson };

struct TranscriptionCall {
  v1::TranscribeRequest request;  // config.profile is left for the model id to set
  std::string model;
  TranscriptFormat format = TranscriptFormat::kJson;
};

// `translate`: the translations endpoint (to English; `language` is not
// one of its fields in OpenAI's API but is taken as the spoken language).
absl::StatusOr<TranscriptionCall> ParseTranscriptionForm(const Form& form, bool translate);

struct RenderedTranscript {
  std::string body;
  std::string content_type;
};
RenderedTranscript RenderTranscript(const v1::TranscribeResponse& response, TranscriptFormat format,
                                    bool translate);

}  // namespace gemma3n::http
