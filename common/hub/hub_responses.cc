#include "common/hub/hub_responses.h"

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"

namespace gemma3n::hub {
namespace {

constexpr int64_t kMaxFileSize = int64_t{1} << 40;  // 1 TB: anything larger is not a checkpoint file

// W/"abc" -> abc, as huggingface_hub normalises etags.
std::string NormalizeEtag(std::string etag) {
  absl::string_view v = etag;
  absl::ConsumePrefix(&v, "W/");
  return std::string(absl::StripSuffix(absl::StripPrefix(v, "\""), "\""));
}

absl::StatusOr<int64_t> ParseSize(const std::string& text, const std::string& file) {
  int64_t size = -1;
  if (!absl::SimpleAtoi(text, &size) || size < 0 || size > kMaxFileSize) {
    return absl::DataLossError(absl::StrCat("the hub sent no usable size for ", file, " ('", text.substr(0, 40), "')"));
  }
  return size;
}

}  // namespace

absl::StatusOr<ModelInfo> ParseModelInfo(const std::string& body, const std::string& url) {
  const nlohmann::json info = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
  const auto sha = info.is_object() ? info.find("sha") : info.end();
  if (sha == info.end() || !sha->is_string() || !IsCommitHash(sha->get<std::string>())) {
    return absl::DataLossError(absl::StrCat(url, " answered without a commit hash (\"sha\")"));
  }
  ModelInfo out{sha->get<std::string>(), {}};
  const auto siblings = info.find("siblings");
  if (siblings == info.end() || !siblings->is_array()) {
    return absl::DataLossError(absl::StrCat(url, " answered without a file list (\"siblings\")"));
  }
  for (const nlohmann::json& s : *siblings) {
    const auto name = s.is_object() ? s.find("rfilename") : s.end();
    if (name != s.end() && name->is_string()) out.files.push_back(name->get<std::string>());
  }
  return out;
}

absl::StatusOr<FileMetadata> ParseFileMetadata(const HttpResponse& response, const std::string& repo,
                                               const std::string& commit, const std::string& file,
                                               const std::string& url) {
  FileMetadata meta;
  meta.repo = repo;
  meta.file = file;
  meta.commit = response.Header("x-repo-commit");
  if (!meta.commit.empty() && meta.commit != commit) {
    return absl::DataLossError(absl::StrCat("asked for ", file, " at ", commit, ", the hub answered for ", meta.commit));
  }
  meta.commit = commit;
  const std::string linked = response.Header("x-linked-etag");
  meta.etag = NormalizeEtag(linked.empty() ? response.Header("etag") : linked);
  RETURN_IF_ERROR(ValidateEtag(meta.etag));
  const std::string linked_size = response.Header("x-linked-size");
  ASSIGN_OR_RETURN(meta.size, ParseSize(linked_size.empty() ? response.Header("content-length") : linked_size, file));
  const std::string location = response.Header("location");
  meta.url = response.status >= 300 && !location.empty() ? location : url;
  if (!absl::StartsWith(meta.url, "https://") && !absl::StartsWith(meta.url, "http://")) {
    return absl::DataLossError(absl::StrCat("the hub redirected ", file, " to '", meta.url.substr(0, 100),
                                            "', not an http(s) URL"));
  }
  return meta;
}

}  // namespace gemma3n::hub
