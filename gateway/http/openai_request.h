// OpenAI request bodies -> the public gemma3n.v1 protos, pure functions (no
// server): /v1/chat/completions and /v1/completions. Only the shape is
// checked here (JSON types, which fields we can honour); the values go to
// the gRPC path, which validates them as for any gRPC client. A field we
// cannot honour (tools, logprobs, n > 1, ...) is a 400 naming it; fields that
// do not change the answer (user, metadata, store, ...) and unknown ones are
// ignored, as vLLM and llama.cpp's server do.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "gemma3n/v1/gemma.pb.h"
#include "nlohmann/json.hpp"

namespace gemma3n::http {

struct GenerationCall {
  v1::GenerateRequest request;  // config.profile is left for the model id to set
  std::string model;            // as the client gave it ("" when missing)
  bool stream = false;
  bool include_usage = false;   // stream_options.include_usage
};

absl::StatusOr<GenerationCall> ParseChatCompletion(const nlohmann::json& body);
absl::StatusOr<GenerationCall> ParseCompletion(const nlohmann::json& body);

// input_audio's `format` -> the mime type sent with the audio part; the
// formats the audio worker's decoder (libsndfile) reads: wav, mp3, flac, ogg.
absl::StatusOr<std::string> AudioFormatMime(const std::string& format);

// "data:<mime>;base64,<payload>" -> the decoded bytes and the mime type.
// http(s) URLs are refused (this server fetches nothing).
struct DataUri {
  std::string mime;
  std::string bytes;
};
absl::StatusOr<DataUri> ParseImageUrl(const std::string& url, const std::string& param);

}  // namespace gemma3n::http
