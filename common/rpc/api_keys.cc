#include "common/rpc/api_keys.h"

#include <fstream>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace gemma3n {
namespace {

// Whether `presented` equals `key`, in a time that depends on the key's
// length only, not on how much of it matched.
bool ConstantTimeEqual(absl::string_view presented, absl::string_view key) {
  if (key.empty()) return false;
  size_t diff = presented.size() ^ key.size();
  for (size_t i = 0; i < key.size(); ++i) {
    diff |= static_cast<unsigned char>(key[i]) ^ (i < presented.size() ? static_cast<unsigned char>(presented[i]) : 0);
  }
  return diff == 0;
}

}  // namespace

absl::StatusOr<ApiKeys> ApiKeys::FromFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the API key file ", path));
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(in, line)) {
    const absl::string_view key = absl::StripAsciiWhitespace(line);
    if (key.empty() || key[0] == '#') continue;
    keys.emplace_back(key);
  }
  if (keys.empty()) return absl::InvalidArgumentError(absl::StrCat("the API key file ", path, " holds no key"));
  return Of(std::move(keys));
}

ApiKeys ApiKeys::Of(std::vector<std::string> keys) {
  ApiKeys k;
  k.keys_ = std::move(keys);
  return k;
}

bool ApiKeys::Accepts(absl::string_view authorization) const {
  constexpr absl::string_view kBearer = "Bearer ";
  if (!absl::StartsWithIgnoreCase(authorization, kBearer)) return false;
  const absl::string_view presented = absl::StripAsciiWhitespace(authorization.substr(kBearer.size()));
  bool accepted = false;
  for (const std::string& key : keys_) accepted |= ConstantTimeEqual(presented, key);  // every key, always
  return accepted;
}

absl::Status ApiKeys::CheckHeader(absl::string_view authorization) const {
  if (!enabled() || Accepts(authorization)) return absl::OkStatus();
  return absl::UnauthenticatedError(authorization.empty()
                                        ? "this server needs an API key: send \"authorization: Bearer KEY\""
                                        : "the API key was not accepted");
}

absl::Status ApiKeys::Check(const grpc::ServerContext& context) const {
  if (!enabled()) return absl::OkStatus();
  const auto& metadata = context.client_metadata();
  const auto it = metadata.find("authorization");
  return CheckHeader(it == metadata.end() ? absl::string_view() : absl::string_view(it->second.data(), it->second.size()));
}

}  // namespace gemma3n
