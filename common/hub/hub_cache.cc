#include "common/hub/hub_cache.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <system_error>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "common/status/status_macros.h"

namespace gemma3n::hub {
namespace fs = std::filesystem;
namespace {

std::string EnvOr(const char* name, const std::string& fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::string(v) : fallback;
}

// The folder huggingface_hub names a model repo by: "models--org--name".
std::string RepoFolderName(const std::string& repo) {
  return absl::StrCat("models--", absl::StrReplaceAll(repo, {{"/", "--"}}));
}

bool IsDirectory(const std::string& path) {
  std::error_code error;
  return fs::is_directory(path, error);
}

std::string PullHint(const ModelRef& ref) {
  return absl::StrCat("run: gemma3n pull ", ref.repo,
                      ref.revision == kDefaultRevision ? "" : absl::StrCat(" --revision ", ref.revision));
}

}  // namespace

std::string HfHomeDir() {
  const std::string xdg = EnvOr("XDG_CACHE_HOME", EnvOr("HOME", ".") + "/.cache");
  return EnvOr("HF_HOME", xdg + "/huggingface");
}

std::string HubCacheDir() { return EnvOr("HF_HUB_CACHE", HfHomeDir() + "/hub"); }

RepoCache::RepoCache(const std::string& cache_dir, const std::string& repo)
    : locks_dir_(absl::StrCat(cache_dir, "/.locks/", RepoFolderName(repo))),
      dir_(absl::StrCat(cache_dir, "/", RepoFolderName(repo))) {}

std::string RepoCache::BlobPath(const std::string& etag) const { return absl::StrCat(dir_, "/blobs/", etag); }

std::string RepoCache::IncompletePath(const std::string& etag) const { return BlobPath(etag) + ".incomplete"; }

std::string RepoCache::SnapshotDir(const std::string& commit) const {
  return absl::StrCat(dir_, "/snapshots/", commit);
}

std::string RepoCache::SnapshotPath(const std::string& commit, const std::string& file) const {
  return absl::StrCat(SnapshotDir(commit), "/", file);
}

std::string RepoCache::LockPath(const std::string& etag) const { return absl::StrCat(locks_dir_, "/", etag, ".lock"); }

std::string RepoCache::RefPath(const std::string& revision) const { return absl::StrCat(dir_, "/refs/", revision); }

absl::StatusOr<std::string> RepoCache::ReadRef(const std::string& revision) const {
  std::ifstream in(RefPath(revision));
  std::string commit;
  if (!in || !std::getline(in, commit)) return absl::NotFoundError(absl::StrCat("no ", RefPath(revision)));
  commit = std::string(absl::StripAsciiWhitespace(commit));
  if (!IsCommitHash(commit)) {
    return absl::DataLossError(absl::StrCat(RefPath(revision), " does not hold a commit hash"));
  }
  return commit;
}

absl::Status RepoCache::WriteRef(const std::string& revision, const std::string& commit) const {
  const fs::path path = RefPath(revision);
  std::error_code error;
  fs::create_directories(path.parent_path(), error);
  const std::string temp = path.string() + ".tmp";
  {
    std::ofstream out(temp, std::ios::trunc);
    out << commit;  // no newline, as huggingface_hub writes it
    if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", temp));
  }
  fs::rename(temp, path, error);
  if (error) return absl::InternalError(absl::StrCat("cannot write ", path.string(), ": ", error.message()));
  return absl::OkStatus();
}

absl::Status RepoCache::LinkSnapshotFile(const std::string& commit, const std::string& file,
                                         const std::string& etag) const {
  const fs::path link = SnapshotPath(commit, file);
  std::error_code error;
  fs::create_directories(link.parent_path(), error);
  if (error) return absl::InternalError(absl::StrCat("cannot create ", link.parent_path().string(), ": ", error.message()));
  // Relative, so the cache can move as a whole (../../blobs/<etag> at the top).
  const fs::path target = fs::path(BlobPath(etag)).lexically_relative(link.parent_path());
  fs::remove(link, error);
  fs::create_symlink(target, link, error);
  if (error) return absl::InternalError(absl::StrCat("cannot link ", link.string(), ": ", error.message()));
  return absl::OkStatus();
}

bool RepoCache::HasSnapshotFile(const std::string& commit, const std::string& file) const {
  std::error_code error;
  return fs::is_regular_file(SnapshotPath(commit, file), error);  // follows the link to the blob
}

absl::StatusOr<std::string> ResolveModelDir(const std::string& model_flag) {
  if (IsDirectory(model_flag)) return model_flag;
  absl::StatusOr<ModelRef> ref = ParseModelRef(model_flag);
  if (!ref.ok()) {
    return absl::NotFoundError(absl::StrCat("--model ", model_flag, ": the directory does not exist, and it is ",
                                            "not a Hugging Face repo id (ORG/NAME[@REVISION]) either"));
  }
  const std::string cache_dir = HubCacheDir();
  const RepoCache cache(cache_dir, ref->repo);
  std::string commit = ref->revision;
  if (!IsCommitHash(commit)) {
    absl::StatusOr<std::string> from_ref = cache.ReadRef(ref->revision);
    if (absl::IsNotFound(from_ref.status())) {
      return absl::NotFoundError(absl::StrCat(ref->repo, " (revision ", ref->revision, ") is not in the hub cache ",
                                              cache_dir, "; ", PullHint(*ref)));
    }
    RETURN_IF_ERROR(from_ref.status());
    commit = *from_ref;
  }
  const std::string snapshot = cache.SnapshotDir(commit);
  if (!IsDirectory(snapshot)) {
    return absl::NotFoundError(absl::StrCat(ref->repo, " at commit ", commit, " is not in the hub cache ", cache_dir,
                                            "; ", PullHint(*ref)));
  }
  return fs::absolute(snapshot).lexically_normal().string();
}

}  // namespace gemma3n::hub
