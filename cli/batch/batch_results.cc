#include "cli/batch/batch_results.h"

#include <cstdio>
#include <filesystem>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "common/cli/retry.h"

namespace gemma3n::batch {

using nlohmann::json;


namespace {

json CustomId(const std::string& custom_id) { return custom_id.empty() ? json(nullptr) : json(custom_id); }

// The custom_id of a final result line, or "" when the line is to be rerun.
std::string FinishedId(const std::string& line) {
  const json j = json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return "";
  const auto id = j.find("custom_id");
  const auto response = j.find("response");
  if (id == j.end() || !id->is_string() || response == j.end() || !response->is_object()) return "";
  const auto code = response->find("status_code");
  if (code == response->end() || !code->is_number_integer() || IsTransientHttpStatus(code->get<int>())) return "";
  return id->get<std::string>();
}

}  // namespace

std::string ResultLine(const std::string& line_id, const std::string& custom_id, int status_code,
                       const json& body) {
  json response = {{"status_code", status_code}, {"request_id", line_id}, {"body", body}};
  if (body.is_object() && body.contains("id") && body["id"].is_string()) response["request_id"] = body["id"];
  const json line = {{"id", line_id}, {"custom_id", CustomId(custom_id)}, {"response", response}, {"error", nullptr}};
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string ErrorLine(const std::string& line_id, const std::string& custom_id, const std::string& code,
                      const std::string& message) {
  const json line = {{"id", line_id},
                     {"custom_id", CustomId(custom_id)},
                     {"response", nullptr},
                     {"error", {{"code", code}, {"message", message}}}};
  return line.dump(-1, ' ', false, json::error_handler_t::replace);
}

absl::StatusOr<std::set<std::string>> KeepFinishedResults(const std::string& path) {
  std::set<std::string> done;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return done;
  std::ifstream in(path);
  if (!in) return absl::PermissionDeniedError(absl::StrCat("cannot read ", path));
  const std::string kept_path = path + ".rerun";
  std::ofstream kept(kept_path, std::ios::trunc);
  if (!kept) return absl::PermissionDeniedError(absl::StrCat("cannot write ", kept_path));
  std::string line;
  while (std::getline(in, line)) {
    const std::string id = FinishedId(line);
    if (id.empty() || !done.insert(id).second) continue;  // rerun it / already kept once
    kept << line << '\n';
  }
  kept.close();
  if (!kept) return absl::InternalError(absl::StrCat("writing ", kept_path, " failed"));
  std::filesystem::rename(kept_path, path, ec);
  if (ec) return absl::InternalError(absl::StrCat("renaming ", kept_path, ": ", ec.message()));
  return done;
}

}  // namespace gemma3n::batch
