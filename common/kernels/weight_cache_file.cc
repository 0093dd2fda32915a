#include "common/kernels/weight_cache_file.h"

#include <openssl/evp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <memory>

#include "absl/strings/str_cat.h"
#include "common/checkpoint/dtype.h"
#include "common/checkpoint/mapped_pages.h"
#include "common/checkpoint/safetensors_file.h"
#include "common/checkpoint/safetensors_writer.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

// Each tensor starts on a cache line (the kernels read whole lines).
constexpr uint64_t kAlign = 64;

// The file's tensors for these matrices (only their rows and cols are read),
// without producers: the one definition of the layout, for writing and for
// checking a file.
std::vector<TensorToWrite> Layout(WeightFormat format, const NamedMatrices& matrices) {
  std::vector<TensorToWrite> out;
  for (const auto& [name, m] : matrices) {
    if (format == WeightFormat::kInt4) {
      out.push_back({name, DType::kU8, {m->rows, m->cols / 2}, nullptr});
    } else {
      out.push_back({name, DType::kI8, {m->rows, m->cols}, nullptr});
    }
    out.push_back({name + ".scales", DType::kF32, {m->rows, m->cols / kInt8Block}, nullptr});
  }
  return out;
}

WeightMatrix::Format MatrixFormat(WeightFormat format) {
  return format == WeightFormat::kInt4 ? WeightMatrix::Format::kInt4 : WeightMatrix::Format::kInt8;
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

// FailedPrecondition unless the file's metadata is this version's, in `format`, with `key`.
absl::Status CheckMetadata(const SafetensorsFile& file, const std::string& path, const std::string& key,
                           WeightFormat format) {
  const auto meta = [&](const std::string& name) {
    auto it = file.metadata().find(name);
    return it == file.metadata().end() ? std::string() : it->second;
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
  return absl::OkStatus();
}

// The file's tensors in layout order, if it holds exactly the layout (names,
// dtypes, shapes), each aligned; else FailedPrecondition / DataLoss saying why.
absl::StatusOr<std::vector<const TensorInfo*>> FindLayout(const SafetensorsFile& file,
                                                          const std::vector<TensorToWrite>& layout) {
  if (file.tensors().size() != layout.size()) {
    return absl::FailedPreconditionError(absl::StrCat("it holds ", file.tensors().size(), " tensors, this model needs ",
                                                      layout.size()));
  }
  std::vector<const TensorInfo*> found;
  for (const TensorToWrite& t : layout) {
    auto it = file.tensors().find(t.name);
    if (it == file.tensors().end()) return absl::FailedPreconditionError(absl::StrCat("it has no tensor ", t.name));
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
  return found;
}

// The matrix of shape `like` in `format` over its weights q and scales s:
// copies of them (copy), or views into the mapped file kept alive.
WeightMatrix CachedMatrix(const WeightMatrix& like, WeightFormat format, const TensorInfo& q, const TensorInfo& s,
                          const std::shared_ptr<const SafetensorsFile>& file, bool copy) {
  WeightMatrix w;
  w.format = MatrixFormat(format);
  w.rows = like.rows;
  w.cols = w.stride = like.cols;
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
  return w;
}

}  // namespace

std::string Sha256Hex(const std::string& bytes) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), digest, &len, EVP_sha256(), nullptr);
  std::string hex;
  for (unsigned int i = 0; i < len; ++i) absl::StrAppend(&hex, absl::Hex(digest[i], absl::kZeroPad2));
  return hex;
}

absl::Status WriteWeightCache(const std::string& path, const std::string& key, WeightFormat format,
                              const NamedMatrices& matrices) {
  if (format == WeightFormat::kBf16) return absl::InvalidArgumentError("bf16 weights are not cached");
  for (const auto& [name, m] : matrices) {
    if (m->format != MatrixFormat(format) || m->stride != m->cols) {
      return absl::InvalidArgumentError(absl::StrCat("matrix ", name, " is not a whole ", WeightFormatName(format),
                                                     " matrix"));
    }
  }
  std::vector<TensorToWrite> tensors = Layout(format, matrices);
  std::vector<const TensorToWrite*> order;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const WeightMatrix& m = *matrices[i / 2].second;
    const char* data = static_cast<const char*>(i % 2 == 0 ? m.data : static_cast<const void*>(m.scales));
    const auto bytes = static_cast<std::streamsize>(NumElements(tensors[i].shape) * DTypeSize(tensors[i].dtype));
    tensors[i].producer = [data, bytes](std::ostream& out) {
      out.write(data, bytes);
      return absl::OkStatus();
    };
    order.push_back(&tensors[i]);
  }

  const std::filesystem::path dir = std::filesystem::path(path).parent_path();
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::PermissionDeniedError(absl::StrCat("cannot create ", dir.string(), ": ", ec.message()));
  SafetensorsFileOptions options;
  options.alignment = kAlign;
  options.metadata = {
      {"gemma3n_weight_cache", kWeightCacheVersion}, {"format", WeightFormatName(format)}, {"key", key}};
  // This process keeps its own copy: sync drops the file's pages from the
  // page cache. A later load then reads them back in huge pages
  // (MADV_HUGEPAGE below), which page-sized write-back pages are not.
  options.sync = true;
  return WriteSafetensorsFile(path, order, options);
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
  RETURN_IF_ERROR(CheckMetadata(*file, path, key, format));
  ASSIGN_OR_RETURN(const std::vector<const TensorInfo*> found, FindLayout(*file, Layout(format, matrices)));
  // Everything checked: only now do the matrices change.
  for (size_t i = 0; i < matrices.size(); ++i) {
    *matrices[i].second = CachedMatrix(*matrices[i].second, format, *found[2 * i], *found[2 * i + 1], file, copy);
  }
  if (!copy) PrefetchMapped(*file);
  return absl::OkStatus();
}

}  // namespace gemma3n
