#include "common/hub/token.h"

#include <cstdlib>
#include <fstream>

#include "absl/strings/ascii.h"
#include "common/hub/hub_cache.h"

namespace gemma3n::hub {

std::string FindToken(const std::optional<std::string>& flag) {
  if (flag) return std::string(absl::StripAsciiWhitespace(*flag));
  if (const char* env = std::getenv("HF_TOKEN"); env && *env) return std::string(absl::StripAsciiWhitespace(env));
  const char* path = std::getenv("HF_TOKEN_PATH");
  std::ifstream in(path && *path ? std::string(path) : HfHomeDir() + "/token");
  std::string token;
  if (in) std::getline(in, token);  // one line; a token is short
  return std::string(absl::StripAsciiWhitespace(token));
}

}  // namespace gemma3n::hub
