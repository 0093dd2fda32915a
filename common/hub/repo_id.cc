#include "common/hub/repo_id.h"

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/status/status_macros.h"

namespace gemma3n::hub {
namespace {

constexpr size_t kMaxRepoPart = 96;
constexpr size_t kMaxRevision = 256;
constexpr size_t kMaxFileName = 1024;

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.'; }

bool IsHex(const std::string& text, size_t length) {
  if (text.size() != length) return false;
  for (char c : text) {
    if (!absl::ascii_isdigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

bool ValidRepoPart(absl::string_view part) {
  if (part.empty() || part.size() > kMaxRepoPart) return false;
  for (char c : part) {
    if (!IsNameChar(c)) return false;
  }
  const char first = part.front(), last = part.back();
  if (first == '-' || first == '.' || last == '-' || last == '.') return false;
  return !absl::StrContains(part, "--") && !absl::StrContains(part, "..");
}

}  // namespace

absl::Status ValidateRepoId(const std::string& repo) {
  const std::vector<absl::string_view> parts = absl::StrSplit(repo, '/');
  if (parts.size() != 2 || !ValidRepoPart(parts[0]) || !ValidRepoPart(parts[1])) {
    return absl::InvalidArgumentError(absl::StrCat(
        "'", repo, "' is not a Hugging Face repo id (expected ORG/NAME, e.g. google/gemma-3n-E2B-it: letters, ",
        "digits, '-', '_', '.')"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRevision(const std::string& revision) {
  bool ok = !revision.empty() && revision.size() <= kMaxRevision;
  for (absl::string_view part : absl::StrSplit(revision, '/')) {
    if (part.empty() || part == "." || part == "..") ok = false;
    for (char c : part) {
      if (!IsNameChar(c)) ok = false;
    }
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("'", revision, "' is not a revision (a branch, tag or commit hash: letters, digits, '-', '_', ",
                     "'.', '/'-separated)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<ModelRef> ParseModelRef(const std::string& text) {
  ModelRef ref{text, kDefaultRevision};
  if (const size_t at = text.find('@'); at != std::string::npos) {
    ref.repo = text.substr(0, at);
    ref.revision = text.substr(at + 1);
  }
  RETURN_IF_ERROR(ValidateRepoId(ref.repo));
  RETURN_IF_ERROR(ValidateRevision(ref.revision));
  return ref;
}

absl::Status ValidateRepoFileName(const std::string& name) {
  bool ok = !name.empty() && name.size() <= kMaxFileName && name.front() != '/';
  for (char c : name) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\\') ok = false;
  }
  for (absl::string_view part : absl::StrSplit(name, '/')) {
    if (part.empty() || part == "." || part == "..") ok = false;
  }
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("refusing the file name '", absl::CHexEscape(name), "' from the hub: not a plain relative path"));
  }
  return absl::OkStatus();
}

bool IsCommitHash(const std::string& text) { return IsHex(text, 40); }

bool IsSha256(const std::string& text) { return IsHex(text, 64); }

absl::Status ValidateEtag(const std::string& etag) {
  if (IsCommitHash(etag) || IsSha256(etag)) return absl::OkStatus();
  return absl::DataLossError(absl::StrCat("the hub sent the etag '", absl::CHexEscape(etag),
                                          "', not a git sha1 or a sha256: refusing it as a blob name"));
}

}  // namespace gemma3n::hub
