#include "text_worker/model/weight_cache_file.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "common/checkpoint/dtype.h"
#include "common/checkpoint/mapped_pages.h"
#include "common/checkpoint/safetensors_file.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

// Each tensor starts on a cache line (the kernels read whole lines).
constexpr uint64_t kAlign = 64;

uint64_t RoundUp(uint64_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

// One tensor of the file: a matrix's quantized weights or its scales.
struct CacheTensor {
  std::string name;
  DType dtype;
  std::vector<int64_t> shape;
  uint64_t bytes;
};

// The file's tensors for these matrices (only their rows and cols are read):
// the one definition of the layout, for writing and for checking a file.
std::vector<CacheTensor> Layout(WeightFormat format, const NamedMatrices& matrices) {
  std::vector<CacheTensor> out;
  for (const auto& [name, m] : matrices) {
    const uint64_t rows = m->rows, cols = m->cols, blocks = cols / kInt8Block;
    if (format == WeightFormat::kInt4) {
      out.push_back({name, DType::kU8, {m->rows, m->cols / 2}, rows * cols / 2});
    } else {
      out.push_back({name, DType::kI8, {m->rows, m->cols}, rows * cols});
    }
    out.push_back({name + ".scales", DType::kF32, {m->rows, m->cols / kInt8Block}, rows * blocks * sizeof(float)});
  }
  return out;
}

WeightMatrix::Format MatrixFormat(WeightFormat format) {
  return format == WeightFormat::kInt4 ? WeightMatrix::Format::kInt4 : WeightMatrix::Format::kInt8;
}

absl::Status Errno(const std::string& what) { return absl::ErrnoToStatus(errno, what); }

absl::Status WriteAll(std::FILE* out, const void* data, size_t n, const std::string& path) {
  if (n > 0 && std::fwrite(data, 1, n, out) != n) return Errno(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

// Hints the kernel to start reading the mapped weights from disk now, so the
// first forward does not fault them in one page at a time, and to map them
// with 2 MB pages where it can: decoding streams through every row of every
// matrix, and with 4 KB pages nearly each row costs a TLB miss (on E2B: 3%
// (int8) to 10% (int4) more tokens/s than the weights converted in memory).
void PrefetchMapped(const SafetensorsFile& file) {
  const uint8_t *begin = nullptr, *end = nullptr;
  for (const auto& [name, t] : file.tensors()) {
    if (!begin || t.data < begin) begin = t.data;
    if (!end || t.data + t.nbytes > end) end = t.data + t.nbytes;
  }
  if (!begin) return;
  const uintptr_t page = static_cast<uintptr_t>(sysconf(_SC_PAGESIZE));
  const uintptr_t b = reinterpret_cast<uintptr_t>(begin) & ~(page - 1);
  madvise(reinterpret_cast<void*>(b), reinterpret_cast<uintptr_t>(end) - b, MADV_WILLNEED);
  madvise(reinterpret_cast<void*>(b), reinterpret_cast<uintptr_t>(end) - b, MADV_HUGEPAGE);
}

// Removes temporary files of writers that died (killed mid-write, several
// GB each): those of this cache file not modified for ten minutes (a live
// writer appends to its file continuously).
void RemoveAbandonedTemporaries(const std::filesystem::path& dir, const std::string& prefix) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - std::chrono::minutes(10);
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() != prefix.size() + 6 || name.compare(0, prefix.size(), prefix) != 0) continue;
    std::error_code time_ec;
    if (e.last_write_time(time_ec) < cutoff && !time_ec && fs::remove(e.path(), time_ec)) {
      spdlog::info("removed {}, left by a writer that did not finish", e.path().string());
    }
  }
}

}  // namespace

absl::Status WriteWeightCache(const std::string& path, const std::string& key, WeightFormat format,
                              const NamedMatrices& matrices) {
  if (format == WeightFormat::kBf16) return absl::InvalidArgumentError("bf16 weights are not cached");
  for (const auto& [name, m] : matrices) {
    if (m->format != MatrixFormat(format) || m->stride != m->cols) {
      return absl::InvalidArgumentError(absl::StrCat("matrix ", name, " is not a whole ", WeightFormatName(format),
                                                     " matrix"));
    }
  }
  // Header: each tensor at an aligned offset of the data, which itself starts
  // aligned in the file (the JSON is padded with spaces).
  const std::vector<CacheTensor> layout = Layout(format, matrices);
  std::vector<uint64_t> offsets;
  nlohmann::json header = nlohmann::json::object();
  uint64_t end = 0;
  for (const CacheTensor& t : layout) {
    offsets.push_back(RoundUp(end));
    end = offsets.back() + t.bytes;
    header[t.name] = {{"dtype", std::string(DTypeName(t.dtype))},
                      {"shape", t.shape},
                      {"data_offsets", {offsets.back(), end}}};
  }
  header["__metadata__"] = {
      {"gemma3n_weight_cache", kWeightCacheVersion}, {"format", WeightFormatName(format)}, {"key", key}};
  std::string text = header.dump();
  text.append(RoundUp(8 + text.size()) - 8 - text.size(), ' ');
  const uint64_t total = 8 + text.size() + end;

  const std::filesystem::path target(path);
  const std::filesystem::path dir = target.parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  const std::filesystem::space_info space = std::filesystem::space(dir, ec);
  if (!ec && space.available < total) {
    return absl::ResourceExhaustedError(absl::StrCat(dir.string(), " has ", space.available >> 20, " MB free, the cache needs ",
                                                     total >> 20, " MB"));
  }

  // A temporary name in the same directory (so rename() is atomic), unique
  // to this writer (several processes may convert the same model at once).
  const std::string prefix = "." + target.filename().string() + ".";
  RemoveAbandonedTemporaries(dir, prefix);
  std::string tmp = (dir / (prefix + "XXXXXX")).string();
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot create a file in ", dir.string()));
  fchmod(fd, 0644);  // mkstemp makes it 0600; the cache may serve other users
  std::FILE* out = fdopen(fd, "wb");
  if (!out) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return Errno(absl::StrCat("cannot open ", tmp));
  }
  bool committed = false;
  absl::Cleanup cleanup = [&] {
    if (out) std::fclose(out);
    if (!committed) ::unlink(tmp.c_str());
  };
  uint8_t length[8];
  for (int i = 0; i < 8; ++i) length[i] = static_cast<uint8_t>((text.size() >> (8 * i)) & 0xff);  // little endian
  RETURN_IF_ERROR(WriteAll(out, length, sizeof length, tmp));
  RETURN_IF_ERROR(WriteAll(out, text.data(), text.size(), tmp));
  const char zeros[kAlign] = {};
  uint64_t at = 0;
  for (size_t i = 0; i < layout.size(); ++i) {
    const WeightMatrix& m = *matrices[i / 2].second;
    const void* data = i % 2 == 0 ? m.data : static_cast<const void*>(m.scales);
    RETURN_IF_ERROR(WriteAll(out, zeros, offsets[i] - at, tmp));
    RETURN_IF_ERROR(WriteAll(out, data, layout[i].bytes, tmp));
    at = offsets[i] + layout[i].bytes;
  }
  // On disk before the rename: after a crash the name holds all or nothing.
  if (std::fflush(out) != 0 || fdatasync(fileno(out)) != 0) return Errno(absl::StrCat("writing ", tmp, " failed"));
  // This process keeps its own copy: drop the file's pages from the page
  // cache (clean after the sync). A later load then reads them back in huge
  // pages (MADV_HUGEPAGE below), which page-sized write-back pages are not.
  posix_fadvise(fileno(out), 0, 0, POSIX_FADV_DONTNEED);
  const int closed = std::fclose(out);
  out = nullptr;
  if (closed != 0) return Errno(absl::StrCat("writing ", tmp, " failed"));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno(absl::StrCat("cannot rename ", tmp, " to ", path));
  committed = true;
  return absl::OkStatus();
}

absl::Status ReadWeightCache(const std::string& path, const std::string& key, WeightFormat format,
                             const NamedMatrices& matrices, bool copy) {
  if (format == WeightFormat::kBf16) return absl::InvalidArgumentError("bf16 weights are not cached");
  auto opened = SafetensorsFile::Open(path);
  if (!opened.ok()) {
    if (opened.status().code() == absl::StatusCode::kNotFound) return opened.status();
    return absl::DataLossError(std::string(opened.status().message()));
  }
  std::shared_ptr<const SafetensorsFile> file = *std::move(opened);
  const auto meta = [&](const std::string& name) {
    auto it = file->metadata().find(name);
    return it == file->metadata().end() ? std::string() : it->second;
  };
  if (meta("gemma3n_weight_cache") != kWeightCacheVersion) {
    return absl::FailedPreconditionError(absl::StrCat("it is not a weight cache of version ", kWeightCacheVersion,
                                                      " (it says '", meta("gemma3n_weight_cache"), "')"));
  }
  if (meta("format") != WeightFormatName(format)) {
    return absl::FailedPreconditionError(
        absl::StrCat("it holds ", meta("format"), " weights, not ", WeightFormatName(format)));
  }
  if (meta("key") != key) {
    spdlog::debug("weight cache {}: key {}, expected {}", path, meta("key"), key);
    return absl::FailedPreconditionError(
        "it was converted from another state of the checkpoint (a safetensors file's size or mtime, or config.json, "
        "changed since)");
  }
  const std::vector<CacheTensor> layout = Layout(format, matrices);
  if (file->tensors().size() != layout.size()) {
    return absl::FailedPreconditionError(absl::StrCat("it holds ", file->tensors().size(), " tensors, this model needs ",
                                                      layout.size()));
  }
  std::vector<const TensorInfo*> found;
  for (const CacheTensor& t : layout) {
    auto it = file->tensors().find(t.name);
    if (it == file->tensors().end()) return absl::FailedPreconditionError(absl::StrCat("it has no tensor ", t.name));
    const TensorInfo& info = it->second;
    if (info.dtype != t.dtype || info.shape != t.shape) {
      return absl::FailedPreconditionError(absl::StrCat("tensor ", t.name, " is ", DTypeName(info.dtype), " ",
                                                        info.ShapeString(), ", expected ", DTypeName(t.dtype)));
    }
    if (reinterpret_cast<uintptr_t>(info.data) % kAlign != 0) {
      return absl::DataLossError(absl::StrCat("tensor ", t.name, " is not ", kAlign, "-byte aligned"));
    }
    found.push_back(&info);
  }
  // Everything checked: only now do the matrices change.
  for (size_t i = 0; i < matrices.size(); ++i) {
    const TensorInfo &q = *found[2 * i], &s = *found[2 * i + 1];
    WeightMatrix w;
    w.format = MatrixFormat(format);
    w.rows = matrices[i].second->rows;
    w.cols = w.stride = matrices[i].second->cols;
    if (copy) {
      w.owned_int8 = std::make_shared<std::vector<int8_t>>(q.nbytes);
      std::memcpy(w.owned_int8->data(), q.data, q.nbytes);
      w.owned = std::make_shared<std::vector<float>>(s.nbytes / sizeof(float));
      std::memcpy(w.owned->data(), s.data, s.nbytes);
      w.data = w.owned_int8->data();
      w.scales = w.owned->data();
      ReleaseMappedPages(q.data, q.nbytes);
      ReleaseMappedPages(s.data, s.nbytes);
    } else {
      w.data = q.data;
      w.scales = reinterpret_cast<const float*>(s.data);
      w.keep_alive = file;
    }
    *matrices[i].second = std::move(w);
  }
  if (!copy) PrefetchMapped(*file);
  return absl::OkStatus();
}

}  // namespace gemma3n
