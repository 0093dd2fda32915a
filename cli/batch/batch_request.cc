#include "cli/batch/batch_request.h"

#include "absl/strings/str_cat.h"

namespace gemma3n::batch {

bool IsBatchEndpoint(std::string_view url) { return url == "/v1/chat/completions" || url == "/v1/completions"; }

absl::StatusOr<BatchRequest> ParseBatchLine(std::string_view line, std::string* custom_id) {
  custom_id->clear();
  const nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  if (!j.is_object()) return absl::InvalidArgumentError("a request line must be a JSON object");
  const auto id = j.find("custom_id");
  if (id == j.end() || !id->is_string() || id->get_ref<const std::string&>().empty()) {
    return absl::InvalidArgumentError("\"custom_id\" must be a non-empty string");
  }
  *custom_id = id->get<std::string>();
  const auto method = j.find("method");
  if (method != j.end() && !(method->is_string() && method->get_ref<const std::string&>() == "POST")) {
    return absl::InvalidArgumentError("\"method\" must be \"POST\"");
  }
  const auto url = j.find("url");
  if (url == j.end() || !url->is_string() || !IsBatchEndpoint(url->get_ref<const std::string&>())) {
    const std::string given = url == j.end() ? "missing" : absl::StrCat("given ", url->dump());
    return absl::InvalidArgumentError(
        absl::StrCat("\"url\" must be \"/v1/chat/completions\" or \"/v1/completions\" (", given, ")"));
  }
  const auto body = j.find("body");
  if (body == j.end() || !body->is_object()) return absl::InvalidArgumentError("\"body\" must be a JSON object");
  const auto stream = body->find("stream");
  if (stream != body->end() && *stream == true) {
    return absl::InvalidArgumentError("\"body.stream\" must be false in a batch (each result is one object)");
  }
  return BatchRequest{*custom_id, url->get<std::string>(), *body};
}

}  // namespace gemma3n::batch
