#include "common/checkpoint/safetensors_writer.h"

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <numeric>

#include "absl/cleanup/cleanup.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/checkpoint/tensor_info.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

namespace fs = std::filesystem;

// A temporary file left this long unmodified belongs to a writer that died.
constexpr std::chrono::minutes kAbandonedAfter(10);

uint64_t RoundUp(uint64_t n, uint64_t multiple) { return (n + multiple - 1) / multiple * multiple; }

uint64_t TensorBytes(const TensorToWrite& t) { return NumElements(t.shape) * DTypeSize(t.dtype); }

absl::Status Errno(const std::string& what) { return absl::ErrnoToStatus(errno, what); }

// The header: each tensor at its offset of the data, padded with spaces so
// the data starts at a multiple of 8 and of the alignment.
std::string Header(const std::vector<const TensorToWrite*>& tensors, const SafetensorsFileOptions& options,
                   std::vector<uint64_t>& offsets, uint64_t& data_bytes) {
  nlohmann::json header = nlohmann::json::object();
  uint64_t end = 0;
  for (const TensorToWrite* t : tensors) {
    offsets.push_back(RoundUp(end, options.alignment));
    end = offsets.back() + TensorBytes(*t);
    header[t->name] = {{"dtype", std::string(DTypeName(t->dtype))},
                       {"shape", t->shape},
                       {"data_offsets", {offsets.back(), end}}};
  }
  header["__metadata__"] = options.metadata;
  std::string text = header.dump();
  text.append(RoundUp(8 + text.size(), std::lcm<uint64_t>(8, options.alignment)) - 8 - text.size(), ' ');
  data_bytes = end;
  return text;
}

// The file's length-prefixed header, then each tensor at its offset.
absl::Status WriteContents(std::ostream& out, const std::string& header, const std::vector<const TensorToWrite*>& tensors,
                           const std::vector<uint64_t>& offsets) {
  const uint64_t n = header.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));  // little endian
  out << header;
  uint64_t at = 0;
  for (size_t i = 0; i < tensors.size(); ++i) {
    for (; at < offsets[i]; ++at) out.put('\0');
    const auto before = out.tellp();
    RETURN_IF_ERROR(tensors[i]->producer(out));
    if (!out) return absl::DataLossError(absl::StrCat("writing tensor ", tensors[i]->name, " failed (disk full?)"));
    const uint64_t written = static_cast<uint64_t>(out.tellp() - before);
    if (written != TensorBytes(*tensors[i])) {
      return absl::InternalError(absl::StrCat("tensor ", tensors[i]->name, ": produced ", written, " bytes, expected ",
                                              TensorBytes(*tensors[i])));
    }
    at += written;
  }
  return absl::OkStatus();
}

// Flushes a written file to disk, then drops its (now clean) pages from the page cache.
absl::Status SyncAndDropPages(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot open ", path));
  const int synced = fdatasync(fd);
  if (synced == 0) posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
  ::close(fd);
  if (synced != 0) return Errno(absl::StrCat("writing ", path, " failed"));
  return absl::OkStatus();
}

// Removes the temporary files of writers of `target` that died mid-write.
void RemoveAbandonedTemporaries(const fs::path& target) {
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  const std::string prefix = "." + target.filename().string() + ".";
  std::error_code ec;
  const auto cutoff = fs::file_time_type::clock::now() - kAbandonedAfter;
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

absl::Status WriteSafetensorsFile(const std::string& path, const std::vector<const TensorToWrite*>& tensors,
                                  const SafetensorsFileOptions& options) {
  if (options.alignment == 0) return absl::InvalidArgumentError("alignment 0");
  std::vector<uint64_t> offsets;
  uint64_t data_bytes = 0;
  const std::string header = Header(tensors, options, offsets, data_bytes);
  const fs::path target(path);
  const fs::path dir = target.parent_path().empty() ? fs::path(".") : target.parent_path();
  std::error_code ec;
  const fs::space_info space = fs::space(dir, ec);
  const uint64_t total = 8 + header.size() + data_bytes;
  if (!ec && space.available < total) {
    return absl::ResourceExhaustedError(absl::StrCat(dir.string(), " has ", space.available >> 20, " MB free, ",
                                                     target.filename().string(), " needs ", total >> 20, " MB"));
  }

  // A temporary name in the same directory (so rename() is atomic), unique
  // to this writer (several processes may write the same file at once).
  RemoveAbandonedTemporaries(target);
  std::string tmp = (dir / ("." + target.filename().string() + ".XXXXXX")).string();
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot create a file in ", dir.string()));
  fchmod(fd, 0644);  // mkstemp makes it 0600; the file may serve other users
  ::close(fd);
  bool committed = false;
  absl::Cleanup remove_tmp = [&] {
    if (!committed) ::unlink(tmp.c_str());
  };
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
    RETURN_IF_ERROR(WriteContents(out, header, tensors, offsets));
    out.close();
    if (!out) return absl::DataLossError(absl::StrCat("writing ", tmp, " failed (disk full?)"));
  }
  if (options.sync) RETURN_IF_ERROR(SyncAndDropPages(tmp));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return Errno(absl::StrCat("cannot rename ", tmp, " to ", path));
  committed = true;
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::Add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                    Producer producer) {
  if (index_.count(name)) return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " added twice"));
  index_[name] = entries_.size();
  TensorToWrite tensor{name, dtype, std::move(shape), std::move(producer)};
  const int64_t bytes = static_cast<int64_t>(TensorBytes(tensor));
  entries_.push_back({std::move(tensor), bytes});
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::Finish() {
  // Greedy packing in declaration order.
  std::vector<std::vector<const TensorToWrite*>> shards(1);
  int64_t size = 0, total = 0;
  for (const Entry& e : entries_) {
    if (!shards.back().empty() && size + e.bytes > max_shard_) {
      shards.emplace_back();
      size = 0;
    }
    shards.back().push_back(&e.tensor);
    size += e.bytes;
    total += e.bytes;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors", i + 1, shards.size());
    RETURN_IF_ERROR(WriteSafetensorsFile(dir_ + "/" + name, shards[i]));
    for (const TensorToWrite* t : shards[i]) weight_map[t->name] = name;
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream out(dir_ + "/model.safetensors.index.json", std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) return absl::DataLossError(absl::StrCat("cannot write the index in ", dir_));
  return absl::OkStatus();
}

}  // namespace gemma3n
