#include "gateway/http/openai_request.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"
#include "gateway/http/openai_errors.h"

namespace gemma3n::http {

namespace pb = gemma3n::v1;
using nlohmann::json;

namespace {

// The value at `key`, or null when missing (null and missing mean the same
// in OpenAI's API).
const json& At(const json& body, const std::string& key) {
  static const json kNull;
  const auto it = body.find(key);
  return it == body.end() ? kNull : *it;
}

absl::StatusOr<std::optional<double>> OptNumber(const json& body, const std::string& key) {
  const json& v = At(body, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_number()) return FieldError(key, absl::StrCat("`", key, "` must be a number; got ", v.dump()));
  return v.get<double>();
}

// An integer in [lo, hi] (a JSON number with no fraction, 8.0 included).
absl::StatusOr<std::optional<int64_t>> OptInteger(const json& body, const std::string& key, int64_t lo, int64_t hi) {
  const json& v = At(body, key);
  if (v.is_null()) return std::nullopt;
  const bool integral = v.is_number_integer() || (v.is_number_float() && v.get<double>() == std::trunc(v.get<double>()));
  if (!integral) return FieldError(key, absl::StrCat("`", key, "` must be an integer; got ", v.dump()));
  // Checked before the cast: a float beyond int64 (1e300, or a literal of
  // 30 digits, which nlohmann keeps as a float) cast to int64 is undefined.
  if (!FitsIn<int64_t>(v)) {
    return FieldError(key, absl::StrCat("`", key, "` must be in [", lo, ", ", hi, "]; got ", v.dump()));
  }
  if (v.is_number_unsigned() && v.get<uint64_t>() > static_cast<uint64_t>(hi)) {
    return FieldError(key, absl::StrCat("`", key, "` must be at most ", hi, "; got ", v.dump()));
  }
  const int64_t n = v.is_number_float() ? static_cast<int64_t>(v.get<double>()) : v.get<int64_t>();
  if (n < lo || n > hi) {
    return FieldError(key, absl::StrCat("`", key, "` must be in [", lo, ", ", hi, "]; got ", v.dump()));
  }
  return n;
}

absl::StatusOr<std::optional<bool>> OptBool(const json& body, const std::string& key) {
  const json& v = At(body, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_boolean()) return FieldError(key, absl::StrCat("`", key, "` must be true or false; got ", v.dump()));
  return v.get<bool>();
}

absl::StatusOr<std::optional<std::string>> OptString(const json& body, const std::string& key,
                                                     const std::string& param) {
  const json& v = At(body, key);
  if (v.is_null()) return std::nullopt;
  if (!v.is_string()) return FieldError(param, absl::StrCat("`", param, "` must be a string; got ", v.dump()));
  return v.get<std::string>();
}

absl::Status Unsupported(const std::string& param, const std::string& why) {
  return FieldError(param, absl::StrCat("`", param, "` is not supported by this server: ", why));
}

// Fields whose presence with a meaningful value we cannot honour.
absl::Status RefuseUnsupported(const json& body) {
  ASSIGN_OR_RETURN(std::optional<int64_t> n, OptInteger(body, "n", 1, std::numeric_limits<int32_t>::max()));
  if (n && *n != 1) return FieldError("n", "`n` must be 1: this server returns one choice per request");
  for (const char* key : {"tools", "functions"}) {
    const json& v = At(body, key);
    if (!v.is_null() && !(v.is_array() && v.empty())) {
      return Unsupported(key, "Gemma 3n is served without tool / function calling");
    }
  }
  for (const char* key : {"tool_choice", "function_call"}) {
    const json& v = At(body, key);
    if (!v.is_null() && v != "none") return Unsupported(key, "Gemma 3n is served without tool / function calling");
  }
  // false (chat) and 0 (completions) ask for nothing.
  for (const char* key : {"logprobs", "top_logprobs"}) {
    const json& v = At(body, key);
    if (!v.is_null() && v != false && v != 0) return Unsupported(key, "log-probabilities are not returned");
  }
  const json& format = At(body, "response_format");
  if (!format.is_null() && !(format.is_object() && At(format, "type") == "text")) {
    return Unsupported("response_format", "only {\"type\": \"text\"} (JSON modes and schemas are not enforced)");
  }
  const json& bias = At(body, "logit_bias");
  if (!bias.is_null() && !(bias.is_object() && bias.empty())) {
    return Unsupported("logit_bias", "token biases are not applied");
  }
  for (const char* key : {"presence_penalty", "frequency_penalty"}) {
    ASSIGN_OR_RETURN(std::optional<double> v, OptNumber(body, key));
    if (v && *v != 0) {
      return Unsupported(key, "use `repetition_penalty` (a multiplicative penalty, 1 = off) instead");
    }
  }
  return absl::OkStatus();
}

// stop: a string or an array of strings.
absl::Status ParseStop(const json& body, pb::GenerationConfig* config) {
  const json& v = At(body, "stop");
  if (v.is_null()) return absl::OkStatus();
  if (v.is_string()) {
    config->add_stop(v.get<std::string>());
    return absl::OkStatus();
  }
  if (!v.is_array()) return FieldError("stop", "`stop` must be a string or an array of strings");
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return FieldError(absl::StrCat("stop[", i, "]"), "`stop` must hold strings only");
    config->add_stop(v[i].get<std::string>());
  }
  return absl::OkStatus();
}

// What both endpoints share: the model, streaming, and the generation settings.
absl::StatusOr<GenerationCall> ParseCommon(const json& body) {
  if (!body.is_object()) return FieldError("", "the request body must be a JSON object");
  RETURN_IF_ERROR(RefuseUnsupported(body));
  GenerationCall call;
  ASSIGN_OR_RETURN(std::optional<std::string> model, OptString(body, "model", "model"));
  call.model = model.value_or("");
  ASSIGN_OR_RETURN(std::optional<bool> stream, OptBool(body, "stream"));
  call.stream = stream.value_or(false);
  const json& options = At(body, "stream_options");
  if (!options.is_null()) {
    if (!options.is_object()) return FieldError("stream_options", "`stream_options` must be an object");
    ASSIGN_OR_RETURN(std::optional<bool> usage, OptBool(options, "include_usage"));
    call.include_usage = usage.value_or(false);
  }

  pb::GenerationConfig* config = call.request.mutable_config();
  constexpr int64_t kInt32Max = std::numeric_limits<int32_t>::max();
  ASSIGN_OR_RETURN(std::optional<int64_t> max_tokens, OptInteger(body, "max_tokens", 0, kInt32Max));
  ASSIGN_OR_RETURN(std::optional<int64_t> max_completion, OptInteger(body, "max_completion_tokens", 0, kInt32Max));
  if (max_completion) max_tokens = max_completion;  // the newer name wins, as in OpenAI's API
  if (max_tokens) config->set_max_new_tokens(static_cast<int32_t>(*max_tokens));
  ASSIGN_OR_RETURN(std::optional<double> temperature, OptNumber(body, "temperature"));
  if (temperature) config->set_temperature(static_cast<float>(*temperature));
  ASSIGN_OR_RETURN(std::optional<double> top_p, OptNumber(body, "top_p"));
  if (top_p) config->set_top_p(static_cast<float>(*top_p));
  ASSIGN_OR_RETURN(std::optional<int64_t> top_k, OptInteger(body, "top_k", 0, kInt32Max));
  if (top_k) config->set_top_k(static_cast<int32_t>(*top_k));
  ASSIGN_OR_RETURN(std::optional<double> min_p, OptNumber(body, "min_p"));
  if (min_p) config->set_min_p(static_cast<float>(*min_p));
  ASSIGN_OR_RETURN(std::optional<double> repetition, OptNumber(body, "repetition_penalty"));
  if (repetition) config->set_repetition_penalty(static_cast<float>(*repetition));
  ASSIGN_OR_RETURN(std::optional<int64_t> seed, OptInteger(body, "seed", 0, std::numeric_limits<int64_t>::max()));
  if (seed) config->set_seed(static_cast<uint64_t>(*seed));
  ASSIGN_OR_RETURN(std::optional<bool> ignore_eos, OptBool(body, "ignore_eos"));  // vLLM's extension
  if (ignore_eos) config->set_ignore_eos(*ignore_eos);
  RETURN_IF_ERROR(ParseStop(body, config));
  return call;
}

absl::StatusOr<std::string> MapRole(const json& message, const std::string& param) {
  ASSIGN_OR_RETURN(std::optional<std::string> role, OptString(message, "role", param + ".role"));
  if (!role) return FieldError(param + ".role", "every message needs a `role`");
  if (*role == "system" || *role == "developer") return std::string("system");
  if (*role == "user") return std::string("user");
  if (*role == "assistant") {
    if (!At(message, "tool_calls").is_null() || !At(message, "function_call").is_null()) {
      return Unsupported(param + ".tool_calls", "Gemma 3n is served without tool / function calling");
    }
    return std::string("model");
  }
  if (*role == "tool" || *role == "function") {
    return Unsupported(param + ".role", "Gemma 3n is served without tool / function calling");
  }
  return FieldError(param + ".role",
                    absl::StrCat("unknown role \"", *role, "\" (system, developer, user or assistant)"));
}

absl::StatusOr<std::string> Base64Field(const json& object, const std::string& key, const std::string& param) {
  ASSIGN_OR_RETURN(std::optional<std::string> text, OptString(object, key, param));
  if (!text || text->empty()) return FieldError(param, absl::StrCat("`", param, "` is missing"));
  std::string bytes;
  if (!absl::Base64Unescape(*text, &bytes)) return FieldError(param, absl::StrCat("`", param, "` is not base64"));
  return bytes;
}

absl::Status ParsePart(const json& part, const std::string& param, pb::Message* out) {
  if (!part.is_object()) return FieldError(param, "a content part must be an object with a `type`");
  ASSIGN_OR_RETURN(std::optional<std::string> type, OptString(part, "type", param + ".type"));
  if (!type) return FieldError(param + ".type", "every content part needs a `type`");
  if (*type == "text") {
    ASSIGN_OR_RETURN(std::optional<std::string> text, OptString(part, "text", param + ".text"));
    if (!text) return FieldError(param + ".text", "a text part needs `text`");
    out->add_parts()->set_text(*text);
    return absl::OkStatus();
  }
  if (*type == "image_url") {
    const json& image = At(part, "image_url");
    // Both {"url": ...} (OpenAI) and a bare string (some clients) are seen.
    std::optional<std::string> url;
    if (image.is_string()) url = image.get<std::string>();
    if (image.is_object()) {
      ASSIGN_OR_RETURN(url, OptString(image, "url", param + ".image_url.url"));
    }
    if (!url) return FieldError(param + ".image_url", "an image_url part needs `image_url.url`");
    ASSIGN_OR_RETURN(DataUri data, ParseImageUrl(*url, param + ".image_url.url"));
    pb::Media* media = out->add_parts()->mutable_image();
    media->set_data(std::move(data.bytes));
    media->set_mime_type(data.mime);
    return absl::OkStatus();
  }
  if (*type == "input_audio") {
    const json& audio = At(part, "input_audio");
    if (!audio.is_object()) return FieldError(param + ".input_audio", "an input_audio part needs `input_audio`");
    ASSIGN_OR_RETURN(std::optional<std::string> format, OptString(audio, "format", param + ".input_audio.format"));
    absl::StatusOr<std::string> mime = AudioFormatMime(format.value_or(""));
    if (!mime.ok()) return FieldError(param + ".input_audio.format", mime.status().message());
    ASSIGN_OR_RETURN(std::string bytes, Base64Field(audio, "data", param + ".input_audio.data"));
    pb::Media* media = out->add_parts()->mutable_audio();
    media->set_data(std::move(bytes));
    media->set_mime_type(*mime);
    return absl::OkStatus();
  }
  return FieldError(param + ".type", absl::StrCat("content part type \"", *type,
                                                  "\" is not supported (text, image_url, input_audio)"));
}

absl::Status ParseMessage(const json& message, const std::string& param, pb::GenerateRequest* request) {
  if (!message.is_object()) return FieldError(param, "a message must be an object");
  pb::Message* out = request->add_messages();
  ASSIGN_OR_RETURN(*out->mutable_role(), MapRole(message, param));
  const json& content = At(message, "content");
  if (content.is_string()) {
    out->add_parts()->set_text(content.get<std::string>());
    return absl::OkStatus();
  }
  if (!content.is_array()) return FieldError(param + ".content", "`content` must be a string or an array of parts");
  for (size_t i = 0; i < content.size(); ++i) {
    RETURN_IF_ERROR(ParsePart(content[i], absl::StrCat(param, ".content[", i, "]"), out));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> AudioFormatMime(const std::string& format) {
  const std::string f = absl::AsciiStrToLower(format);
  if (f == "wav") return std::string("audio/wav");
  if (f == "mp3") return std::string("audio/mpeg");
  if (f == "flac") return std::string("audio/flac");
  if (f == "ogg") return std::string("audio/ogg");
  return absl::InvalidArgumentError(absl::StrCat("audio format \"", format,
                                                 "\" is not supported; send wav, mp3, flac or ogg"));
}

absl::StatusOr<DataUri> ParseImageUrl(const std::string& url, const std::string& param) {
  if (absl::StartsWithIgnoreCase(url, "http://") || absl::StartsWithIgnoreCase(url, "https://")) {
    return FieldError(param, "image URLs are not fetched by this server; send the image inline as a data URI "
                             "(data:image/png;base64,...)");
  }
  constexpr absl::string_view kBase64 = ";base64,";
  const size_t comma = url.find(',');
  if (!absl::StartsWithIgnoreCase(url, "data:") || comma == std::string::npos || comma < kBase64.size() - 1 ||
      !absl::EqualsIgnoreCase(absl::string_view(url).substr(comma + 1 - kBase64.size(), kBase64.size()), kBase64)) {
    return FieldError(param, "an image must be a base64 data URI (data:image/png;base64,...)");
  }
  DataUri out;
  out.mime = absl::AsciiStrToLower(url.substr(5, comma + 1 - kBase64.size() - 5));
  if (!out.mime.empty() && !absl::StartsWith(out.mime, "image/")) {
    return FieldError(param, absl::StrCat("the data URI holds \"", out.mime, "\", not an image"));
  }
  if (!absl::Base64Unescape(absl::string_view(url).substr(comma + 1), &out.bytes)) {
    return FieldError(param, "the data URI's payload is not base64");
  }
  return out;
}

absl::StatusOr<GenerationCall> ParseChatCompletion(const json& body) {
  ASSIGN_OR_RETURN(GenerationCall call, ParseCommon(body));
  const json& messages = At(body, "messages");
  if (!messages.is_array() || messages.empty()) {
    return FieldError("messages", "`messages` must be a non-empty array of {role, content}");
  }
  for (size_t i = 0; i < messages.size(); ++i) {
    RETURN_IF_ERROR(ParseMessage(messages[i], absl::StrCat("messages[", i, "]"), &call.request));
  }
  return call;
}

absl::StatusOr<GenerationCall> ParseCompletion(const json& body) {
  ASSIGN_OR_RETURN(GenerationCall call, ParseCommon(body));
  const json& echo = At(body, "echo");
  if (!echo.is_null() && echo != false) return Unsupported("echo", "the prompt is not echoed");
  ASSIGN_OR_RETURN(std::optional<int64_t> best_of, OptInteger(body, "best_of", 1, 1));
  (void)best_of;
  ASSIGN_OR_RETURN(std::optional<std::string> suffix, OptString(body, "suffix", "suffix"));
  if (suffix && !suffix->empty()) return Unsupported("suffix", "insertion (fill-in-the-middle) is not served");
  const json& prompt = At(body, "prompt");
  std::string text;
  if (prompt.is_string()) {
    text = prompt.get<std::string>();
  } else if (prompt.is_array() && prompt.size() == 1 && prompt[0].is_string()) {
    text = prompt[0].get<std::string>();
  } else if (prompt.is_array() && prompt.size() > 1) {
    return FieldError("prompt", "`prompt` may hold one string; send one request per prompt");
  } else {
    return FieldError("prompt", "`prompt` must be a string (or an array of one string)");
  }
  if (text.empty()) return FieldError("prompt", "`prompt` is empty");
  call.request.set_prompt(std::move(text));
  return call;
}

}  // namespace gemma3n::http
