// What `gemma3n pull` reads from the network and the command line, through
// the parsers of common/hub/. The first byte picks what the rest is:
//   0  the model-info JSON (GET /api/models/REPO/revision/REV): ParseModelInfo,
//      then CheckpointFiles and every file name's ValidateRepoFileName
//   1  a HEAD answer about a file: the next byte picks the status (200, 302,
//      307, 404), the rest is header lines as libcurl hands them over
//      (AddHeaderLine each), then ParseFileMetadata: X-Repo-Commit,
//      X-Linked-Etag / ETag, X-Linked-Size / Content-Length, Location
//   2  command-line text: "REPO[@REV]" (ParseModelRef), and after a newline
//      a second one; the text is also tried as a file name and an etag
//   3  the token file `hf auth login` writes (FindToken, via HF_TOKEN_PATH)
// Contracts beyond "no crash" (fuzz::Violated): whatever is accepted stays
// inside the cache folder it names, two repos never share a folder, etags
// and sizes are what download.cc may trust, a token is one trimmed line.
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/hub/http.h"
#include "common/hub/hub_cache.h"
#include "common/hub/hub_responses.h"
#include "common/hub/model_files.h"
#include "common/hub/repo_id.h"
#include "common/hub/token.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace gemma3n::hub;
using gemma3n::fuzz::Violated;

constexpr char kCache[] = "/cache";
constexpr char kRepo[] = "org/name";
constexpr char kCommit[] = "0123456789abcdef0123456789abcdef01234567";
constexpr char kUrl[] = "https://hub.invalid/org/name/resolve/0123456789abcdef0123456789abcdef01234567/f";
std::string token_path;

// `path`, normalised, is below `dir`.
void MustStayIn(const std::string& path, const std::string& dir, const char* what) {
  const std::string normal = std::filesystem::path(path).lexically_normal().string();
  if (!absl::StartsWith(normal, dir + "/") || normal.size() == dir.size() + 1) Violated(what);
}

void ModelInfoBody(const std::string& body) {
  const auto info = ParseModelInfo(body, kUrl);
  if (!info.ok()) return;
  if (!IsCommitHash(info->commit)) Violated("a model info accepted without a commit hash");
  const RepoCache cache(kCache, kRepo);
  for (const std::string& file : info->files) {
    if (!ValidateRepoFileName(file).ok()) continue;
    MustStayIn(cache.SnapshotPath(info->commit, file), cache.SnapshotDir(info->commit), "a file name leaves the snapshot");
  }
  const auto wanted = CheckpointFiles(info->files, kRepo);
  if (!wanted.ok()) return;
  for (const std::string& file : *wanted) {
    if (std::find(info->files.begin(), info->files.end(), file) == info->files.end()) {
      Violated("CheckpointFiles names a file the repo does not list");
    }
  }
}

void HeadResponse(const std::string& bytes) {
  if (bytes.empty()) return;
  constexpr long kStatuses[] = {200, 302, 307, 404};
  HttpResponse response;
  response.status = kStatuses[static_cast<unsigned char>(bytes[0]) % 4];
  for (absl::string_view line : absl::StrSplit(absl::string_view(bytes).substr(1), absl::ByString("\n"))) {
    AddHeaderLine(std::string(line) + "\n", response);
  }
  const auto meta = ParseFileMetadata(response, kRepo, kCommit, "model.safetensors", kUrl);
  if (!meta.ok()) return;
  if (!ValidateEtag(meta->etag).ok()) Violated("metadata accepted with an etag that is not a blob name");
  if (meta->size < 0 || meta->size > (int64_t{1} << 40)) Violated("metadata accepted with an unusable size");
  if (!absl::StartsWith(meta->url, "https://") && !absl::StartsWith(meta->url, "http://")) {
    Violated("metadata accepted with a URL that is not http(s)");
  }
  if (meta->commit != kCommit) Violated("metadata accepted for another commit");
  const RepoCache cache(kCache, kRepo);
  MustStayIn(cache.IncompletePath(meta->etag), cache.dir() + "/blobs", "an etag leaves the blobs folder");
}

void CommandLine(const std::string& text) {
  const std::vector<std::string> refs = absl::StrSplit(text, absl::MaxSplits('\n', 1));
  std::vector<std::string> dirs;
  for (const std::string& r : refs) {
    const auto ref = ParseModelRef(r);
    if (!ref.ok()) continue;
    if (!ValidateRepoId(ref->repo).ok() || !ValidateRevision(ref->revision).ok()) {
      Violated("ParseModelRef accepted what the validations refuse");
    }
    const RepoCache cache(kCache, ref->repo);
    MustStayIn(cache.dir(), kCache, "a repo id leaves the cache");
    if (cache.dir().find('/', sizeof(kCache)) != std::string::npos) Violated("a repo id makes more than one folder");
    MustStayIn(cache.RefPath(ref->revision), cache.dir() + "/refs", "a revision leaves refs/");
    for (size_t i = 0; i < dirs.size(); ++i) {
      if (dirs[i] == cache.dir() && refs[i].substr(0, refs[i].find('@')) != ref->repo) {
        Violated("two repo ids share a cache folder");
      }
    }
    dirs.push_back(cache.dir());
  }
  if (ValidateRepoFileName(text).ok()) MustStayIn(std::string(kCache) + "/" + text, kCache, "a file name leaves");
  if (ValidateEtag(text).ok() && text.size() != 40 && text.size() != 64) Violated("an etag of the wrong length");
}

void TokenFile(const std::string& bytes) {
  std::ofstream(token_path, std::ios::binary | std::ios::trunc) << bytes;
  const std::string token = FindToken(std::nullopt);
  if (token.find('\n') != std::string::npos) Violated("a token of more than one line");
  if (!token.empty() && (absl::ascii_isspace(token.front()) || absl::ascii_isspace(token.back()))) {
    Violated("a token with surrounding whitespace");
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  token_path = std::filesystem::temp_directory_path() / ("fuzz_hub_token." + std::to_string(getpid()));
  unsetenv("HF_TOKEN");
  setenv("HF_TOKEN_PATH", token_path.c_str(), 1);
  std::atexit([] { std::filesystem::remove(token_path); });
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const std::string rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 4) {
    case 0: ModelInfoBody(rest); break;
    case 1: HeadResponse(rest); break;
    case 2: CommandLine(rest); break;
    default: TokenFile(rest); break;
  }
  return 0;
}
