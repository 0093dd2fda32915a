#include "gateway/http/openai_audio.h"

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gateway/http/openai_errors.h"
#include "gateway/http/sse.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {

namespace pb = gemma3n::v1;

namespace {

const std::string* Field(const Form& form, const std::string& name) {
  const auto it = form.find(name);
  return it == form.end() ? nullptr : &it->second.content;
}

absl::StatusOr<TranscriptFormat> ParseFormat(const std::string* name) {
  if (!name || name->empty() || *name == "json") return TranscriptFormat::kJson;
  if (*name == "text") return TranscriptFormat::kText;
  if (*name == "verbose_json") return TranscriptFormat::kVerboseJson;
  return FieldError("response_format", absl::StrCat("response_format \"", *name,
                                                    "\" is not supported (json, text or verbose_json)"));
}

}  // namespace

absl::StatusOr<TranscriptionCall> ParseTranscriptionForm(const Form& form, bool translate) {
  TranscriptionCall call;
  const auto file = form.find("file");
  if (file == form.end() || file->second.content.empty()) {
    return FieldError("file", "upload the recording as the multipart field `file`");
  }
  pb::Media* audio = call.request.mutable_audio();
  audio->set_data(file->second.content);
  // The decoder reads the container's header; a type is passed on only
  // when the client named an audio one.
  if (absl::StartsWith(file->second.content_type, "audio/")) audio->set_mime_type(file->second.content_type);
  call.request.set_task(translate ? pb::TRANSCRIBE_TASK_TRANSLATE : pb::TRANSCRIBE_TASK_TRANSCRIBE);
  if (const std::string* model = Field(form, "model")) call.model = *model;
  if (const std::string* language = Field(form, "language")) call.request.set_language(*language);
  if (const std::string* prompt = Field(form, "prompt")) call.request.set_prompt(*prompt);
  absl::StatusOr<TranscriptFormat> format = ParseFormat(Field(form, "response_format"));
  if (!format.ok()) return format.status();
  call.format = *format;
  if (const std::string* t = Field(form, "temperature"); t && !t->empty()) {
    double temperature = 0;
    if (!absl::SimpleAtod(*t, &temperature)) {
      return FieldError("temperature", absl::StrCat("`temperature` must be a number; got \"", *t, "\""));
    }
    call.request.mutable_config()->set_temperature(static_cast<float>(temperature));
  }
  if (const std::string* stream = Field(form, "stream"); stream && absl::AsciiStrToLower(*stream) == "true") {
    return FieldError("stream", "`stream` is not supported for transcriptions: the reply comes whole");
  }
  return call;
}

RenderedTranscript RenderTranscript(const pb::TranscribeResponse& response, TranscriptFormat format,
                                    bool translate) {
  if (format == TranscriptFormat::kText) return {response.text() + "\n", "text/plain; charset=utf-8"};
  nlohmann::json out = {{"text", response.text()}};
  if (format == TranscriptFormat::kVerboseJson) {
    out["task"] = translate ? "translate" : "transcribe";
    out["language"] = translate ? "english" : response.language();
    out["duration"] = response.duration_seconds();
    nlohmann::json segments = nlohmann::json::array();
    for (int i = 0; i < response.segments_size(); ++i) {
      const pb::TranscriptSegment& s = response.segments(i);
      segments.push_back({{"id", i},
                          {"seek", 0},
                          {"start", s.start_seconds()},
                          {"end", s.end_seconds()},
                          {"text", s.text()},
                          {"tokens", nlohmann::json::array()}});
    }
    out["segments"] = std::move(segments);
  }
  out["usage"] = {{"type", "tokens"},
                  {"input_tokens", response.usage().prompt_tokens()},
                  {"output_tokens", response.usage().generated_tokens()},
                  {"total_tokens", response.usage().prompt_tokens() + response.usage().generated_tokens()}};
  return {JsonText(out), "application/json"};
}

}  // namespace gemma3n::http
