#include "text_worker/model/weight_cache.h"

#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <optional>

#include "absl/strings/str_cat.h"
#include "common/kernels/weight_cache_file.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;

// ${XDG_CACHE_HOME:-~/.cache} (the XDG spec ignores a relative value).
std::optional<fs::path> UserCacheHome() {
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  if (xdg && xdg[0] == '/') return fs::path(xdg);
  const char* home = std::getenv("HOME");
  if (home && home[0] == '/') return fs::path(home) / ".cache";
  return std::nullopt;
}

// <directory name>-<sha256 of its absolute path, 16 hex digits>.
std::string ModelId(const std::string& model_dir) {
  std::error_code ec;
  fs::path dir = fs::weakly_canonical(fs::absolute(model_dir), ec);
  if (ec) dir = fs::absolute(model_dir).lexically_normal();
  if (dir.filename().empty()) dir = dir.parent_path();
  return absl::StrCat(dir.filename().string(), "-", Sha256Hex(dir.string()).substr(0, 16));
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

std::vector<std::string> WeightCachePaths(const std::string& model_dir, const std::string& cache_dir,
                                          WeightFormat format) {
  if (cache_dir == "none") return {};
  const std::string file = absl::StrCat("text-", WeightFormatName(format), ".safetensors");
  if (!cache_dir.empty()) return {(fs::path(cache_dir) / ModelId(model_dir) / file).string()};
  std::vector<std::string> out = {(fs::path(model_dir) / "gemma3n-cache" / file).string()};
  if (auto home = UserCacheHome()) {
    out.push_back((*home / "gemma3n-grpc" / "weights" / ModelId(model_dir) / file).string());
  }
  return out;
}

absl::StatusOr<std::string> WeightCacheKey(const Checkpoint& ckpt, const TextWeights& w, WeightFormat format) {
  nlohmann::json files = nlohmann::json::array();
  for (const std::string& path : ckpt.MappedFiles()) {
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return absl::ErrnoToStatus(errno, absl::StrCat("cannot stat ", path));
    files.push_back({{"name", fs::path(path).filename().string()},
                     {"size", static_cast<int64_t>(st.st_size)},
                     {"mtime_ns", static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec}});
  }
  // A transposed square matrix would pass the shape checks: say which are.
  nlohmann::json transposed = nlohmann::json::array();
  for (size_t i = 0; i < w.layers.size(); ++i) {
    if (w.layers[i].mlp.down_transposed) transposed.push_back(i);
  }
  const nlohmann::json key = {{"files", files},
                              {"config_sha256", Sha256Hex(ckpt.config().dump())},
                              {"block", kInt8Block},
                              {"format", WeightFormatName(format)},
                              {"down_transposed_layers", transposed}};
  return key.dump();
}

namespace {

// Maps `matrices` from the first valid cache file of `paths`; a later valid
// one silences the earlier ones' complaints (e.g. a stale copy in a read-only
// model directory). Returns whether one was taken (filling `report`).
bool ReadFirstValidCache(const std::vector<std::string>& paths, const std::string& key, WeightFormat format,
                         const NamedMatrices& matrices, bool preload, WeightCacheReport& report) {
  std::vector<std::string> rejected;
  const auto start = std::chrono::steady_clock::now();
  for (const std::string& path : paths) {
    const absl::Status read = ReadWeightCache(path, key, format, matrices, preload);
    if (read.ok()) {
      for (const std::string& r : rejected) spdlog::debug("{}", r);
      report.from_cache = true;
      report.path = path;
      report.seconds = SecondsSince(start);
      for (const auto& [n, m] : matrices) report.bytes += WeightBytes(*m);
      spdlog::info("weights {}: loaded from cache {} in {:.2f} s ({:.2f} GB)", WeightFormatName(format), path,
                   report.seconds, report.bytes / 1e9);
      return true;
    }
    if (!absl::IsNotFound(read)) {
      rejected.push_back(absl::StrCat("weight cache ", path, " not used: ", read.message()));
    }
  }
  for (const std::string& r : rejected) spdlog::warn("{}", r);
  return false;
}

// Writes the converted `matrices` to the first of `paths` that takes them.
void WriteFirstCandidate(const std::vector<std::string>& paths, const std::string& key, WeightFormat format,
                         const NamedMatrices& matrices, WeightCacheReport& report) {
  for (const std::string& path : paths) {
    const auto write_start = std::chrono::steady_clock::now();
    const absl::Status written = WriteWeightCache(path, key, format, matrices);
    if (written.ok()) {
      report.written = true;
      report.path = path;
      spdlog::info("weights {}: converted in {:.1f} s, cached at {} ({:.1f} s to write, {:.2f} GB)",
                   WeightFormatName(format), report.seconds, path, SecondsSince(write_start), report.bytes / 1e9);
      return;
    }
    spdlog::warn("cannot write the weight cache {}: {}", path, std::string(written.message()));
  }
}

}  // namespace

absl::StatusOr<WeightCacheReport> ConvertTextWeightsCached(ThreadPool& pool, const Checkpoint& ckpt, TextWeights& w,
                                                           PendingTransposes& pending, WeightFormat format,
                                                           const std::string& cache_dir, bool preload) {
  WeightCacheReport report;
  if (format == WeightFormat::kBf16) {
    RETURN_IF_ERROR(TransposeSparseDownProjections(pool, w, pending, /*release_source=*/!preload));
    return report;
  }
  const char* name = WeightFormatName(format);
  const NamedMatrices matrices = ConvertibleMatrices(w);
  std::vector<std::string> paths = WeightCachePaths(ckpt.dir(), cache_dir, format);
  std::string key;
  if (!paths.empty()) {
    absl::StatusOr<std::string> k = WeightCacheKey(ckpt, w, format);
    if (k.ok()) {
      key = *std::move(k);
    } else {
      spdlog::warn("weights {}: no cache: {}", name, std::string(k.status().message()));
      paths.clear();
    }
  }
  if (ReadFirstValidCache(paths, key, format, matrices, preload, report)) return report;

  // The checkpoint maps its tensors (TextModel::Load never preloads them for
  // a conversion), so the bf16 pages can be dropped once converted.
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(TransposeSparseDownProjections(pool, w, pending, /*release_source=*/true));
  ASSIGN_OR_RETURN(report.bytes, ConvertTextWeights(pool, w, format, /*release_source=*/true));
  report.seconds = SecondsSince(start);
  WriteFirstCandidate(paths, key, format, matrices, report);
  if (!report.written) {
    spdlog::info("weights {}: converted in {:.1f} s, {:.2f} GB ({})", name, report.seconds, report.bytes / 1e9,
                 cache_dir == "none" ? "cache off" : "not cached");
  }
  return report;
}

}  // namespace gemma3n
