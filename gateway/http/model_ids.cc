#include "gateway/http/model_ids.h"

#include <algorithm>
#include <filesystem>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "gateway/http/openai_errors.h"

namespace gemma3n::http {

std::string DefaultServedModelName(const std::string& model_dir) {
  const std::filesystem::path path = std::filesystem::path(model_dir).lexically_normal();
  std::vector<std::string> parts;
  for (const auto& p : path) {
    if (!p.empty() && p != "/" && p != ".") parts.push_back(p.string());
  }
  // models--ORG--NAME/snapshots/REV: the hub cache's layout.
  for (size_t i = 0; i + 2 < parts.size(); ++i) {
    if (absl::StartsWith(parts[i], "models--") && parts[i + 1] == "snapshots") {
      const std::vector<std::string> pieces = absl::StrSplit(parts[i].substr(8), absl::MaxSplits("--", 1));
      return pieces.back();
    }
  }
  return parts.empty() ? "gemma-3n" : parts.back();
}

std::vector<std::string> ModelIds(const std::string& name, const std::vector<std::string>& profiles) {
  std::vector<std::string> ids = {name};
  for (const std::string& p : profiles) ids.push_back(name + ":" + p);
  return ids;
}

absl::StatusOr<std::string> ProfileOfModel(const std::string& model, const std::string& name,
                                           const std::vector<std::string>& profiles) {
  if (model.empty() || model == name) return std::string();
  if (absl::StartsWith(model, name + ":")) {
    const std::string profile = model.substr(name.size() + 1);
    if (std::find(profiles.begin(), profiles.end(), profile) != profiles.end()) return profile;
  }
  return ModelNotFound(model, name);
}

}  // namespace gemma3n::http
