#include "common/hub/download.h"

#include <fcntl.h>
#include <openssl/evp.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n::hub {
namespace fs = std::filesystem;
namespace {

using File = std::unique_ptr<std::FILE, decltype(&std::fclose)>;

int64_t FileSize(const std::string& path) {
  std::error_code error;
  const auto size = fs::file_size(path, error);
  return error ? -1 : static_cast<int64_t>(size);
}

absl::StatusOr<std::string> Sha256Hex(const std::string& path) {
  File in(std::fopen(path.c_str(), "rb"), &std::fclose);
  if (!in) return absl::InternalError(absl::StrCat("cannot read ", path));
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr);
  std::vector<char> buffer(1 << 20);
  size_t n;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in.get())) > 0) EVP_DigestUpdate(ctx.get(), buffer.data(), n);
  if (std::ferror(in.get())) return absl::InternalError(absl::StrCat("cannot read ", path));
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(ctx.get(), digest, &length);
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(digest), length));
}

// One attempt: continue the partial file from its end. UNAVAILABLE (to be
// retried) when the connection ends early.
absl::Status DownloadRest(const HubClient& client, const FileMetadata& meta, const std::string& partial,
                          TransferProgress& progress) {
  int64_t have = std::max<int64_t>(0, FileSize(partial));
  if (have > meta.size) {  // not ours to continue
    std::error_code error;
    fs::remove(partial, error);
    progress.Discard(have);
    have = 0;
  }
  File out(std::fopen(partial.c_str(), "ab"), &std::fclose);  // created even for an empty file
  if (!out) return absl::InternalError(absl::StrCat("cannot write ", partial));
  if (have == meta.size) return absl::OkStatus();
  int64_t written = have;
  const auto on_bytes = [&](const char* data, size_t n) -> absl::Status {
    if (written + static_cast<int64_t>(n) > meta.size) {
      return absl::DataLossError(absl::StrCat(meta.url, " sent more than the ", meta.size, " bytes the hub announced for ",
                                              meta.file));
    }
    if (std::fwrite(data, 1, n, out.get()) != n) {
      return absl::ResourceExhaustedError(absl::StrCat("cannot write ", partial, " (disk full?)"));
    }
    written += static_cast<int64_t>(n);
    progress.Add(static_cast<int64_t>(n));
    return absl::OkStatus();
  };
  const auto restarted = [&]() -> absl::Status {
    if (std::fflush(out.get()) != 0 || ::ftruncate(::fileno(out.get()), 0) != 0) {
      return absl::InternalError(absl::StrCat("cannot truncate ", partial));
    }
    progress.Discard(written);
    written = 0;
    return absl::OkStatus();
  };
  const absl::Status fetched = client.Fetch(meta, have, on_bytes, restarted);
  if (std::fflush(out.get()) != 0) return absl::ResourceExhaustedError(absl::StrCat("cannot write ", partial));
  RETURN_IF_ERROR(fetched);
  if (written < meta.size) {
    return absl::UnavailableError(
        absl::StrCat(meta.file, ": the connection ended after ", written, " of ", meta.size, " bytes"));
  }
  return absl::OkStatus();
}

// The lock huggingface_hub's FileLock takes (flock on the same file), so a
// Python download and ours, or two pulls, never write one .incomplete file.
class BlobLock {
 public:
  static absl::StatusOr<BlobLock> Take(const std::string& path, const std::string& file) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) return absl::InternalError(absl::StrCat("cannot open the lock file ", path));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      spdlog::info("{}: another download holds {}; waiting for it", file, path);
      if (::flock(fd, LOCK_EX) != 0) {
        ::close(fd);
        return absl::InternalError(absl::StrCat("cannot lock ", path));
      }
    }
    return BlobLock(fd);
  }
  BlobLock(BlobLock&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  BlobLock& operator=(BlobLock&&) = delete;
  ~BlobLock() {
    if (fd_ >= 0) ::close(fd_);  // releases the flock
  }

 private:
  explicit BlobLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace

bool BlobComplete(const RepoCache& cache, const FileMetadata& meta) {
  return FileSize(cache.BlobPath(meta.etag)) == meta.size;
}

int64_t PartialBytes(const RepoCache& cache, const FileMetadata& meta) {
  return std::max<int64_t>(0, FileSize(cache.IncompletePath(meta.etag)));
}

absl::Status VerifyBlob(const std::string& path, const FileMetadata& meta) {
  const int64_t size = FileSize(path);
  if (size != meta.size) {
    return absl::DataLossError(absl::StrCat(meta.file, " has ", size, " bytes, the hub announced ", meta.size));
  }
  if (!meta.IsLfs()) return absl::OkStatus();
  ASSIGN_OR_RETURN(const std::string sha256, Sha256Hex(path));
  if (sha256 != meta.etag) {
    return absl::DataLossError(absl::StrCat(meta.file, " does not have the sha256 the hub names it by (got ", sha256,
                                            ", expected ", meta.etag, ")"));
  }
  return absl::OkStatus();
}

absl::Status DownloadBlob(const HubClient& client, const RepoCache& cache, const FileMetadata& meta,
                          TransferProgress& progress) {
  const std::string blob = cache.BlobPath(meta.etag);
  const std::string partial = cache.IncompletePath(meta.etag);
  std::error_code error;
  for (const std::string& path : {blob, cache.LockPath(meta.etag)}) {
    const fs::path dir = fs::path(path).parent_path();
    fs::create_directories(dir, error);
    if (error) return absl::InternalError(absl::StrCat("cannot create ", dir.string(), ": ", error.message()));
  }
  ASSIGN_OR_RETURN(const BlobLock lock, BlobLock::Take(cache.LockPath(meta.etag), meta.file));
  if (BlobComplete(cache, meta)) return absl::OkStatus();  // the other download finished it
  progress.BeginFile(meta.file, meta.size, PartialBytes(cache, meta));
  constexpr int kDownloads = 2;  // a corrupt file is fetched once more, then it is an error
  for (int round = 1;; ++round) {
    RETURN_IF_ERROR(WithRetries(client.options().retry, meta.file,
                                [&] { return DownloadRest(client, meta, partial, progress); }));
    const absl::Status verified = VerifyBlob(partial, meta);
    if (verified.ok()) break;
    fs::remove(partial, error);
    progress.Discard(meta.size);
    if (round == kDownloads) {
      return absl::DataLossError(absl::StrCat(verified.message(), "; downloaded twice, wrong both times: giving up"));
    }
    spdlog::warn("{}; removed the download, fetching it again", std::string(verified.message()));
  }
  fs::rename(partial, blob, error);
  if (error) return absl::InternalError(absl::StrCat("cannot rename ", partial, " to ", blob, ": ", error.message()));
  progress.EndFile();
  return absl::OkStatus();
}

}  // namespace gemma3n::hub
