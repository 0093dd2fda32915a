#include "common/checkpoint/safetensors_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"

namespace gemma3n {
namespace {

// Headers of real checkpoints are well under a megabyte; refuse absurd sizes
// before allocating anything.
constexpr uint64_t kMaxHeaderBytes = 100ull << 20;

absl::Status Corrupt(const std::string& path, const std::string& what) {
  return absl::DataLossError(absl::StrCat("corrupt safetensors file ", path, ": ", what));
}

absl::StatusOr<TensorInfo> ParseEntry(const std::string& path, const std::string& name, const nlohmann::json& e,
                                      const uint8_t* data, uint64_t data_size) {
  const auto bad = [&](const std::string& what) { return Corrupt(path, absl::StrCat("tensor '", name, "': ", what)); };
  if (!e.is_object()) return bad("entry is not an object");
  auto dtype_it = e.find("dtype");
  if (dtype_it == e.end() || !dtype_it->is_string()) return bad("missing dtype");
  auto dtype = ParseDType(dtype_it->get<std::string>());
  if (!dtype.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' in ", path, " has unsupported dtype '",
                                                   dtype_it->get<std::string>(), "'"));
  }
  TensorInfo t;
  t.name = name;
  t.file = path;
  t.dtype = *dtype;
  auto shape_it = e.find("shape");
  if (shape_it == e.end() || !shape_it->is_array()) return bad("missing shape");
  uint64_t elements = 1;
  for (const auto& d : *shape_it) {
    if (!d.is_number_unsigned() && !(d.is_number_integer() && d.get<int64_t>() >= 0)) {
      return bad("shape has a non-integer or negative dimension");
    }
    const uint64_t dim = d.get<uint64_t>();
    if (dim != 0 && elements > (1ull << 62) / dim) return bad("shape is absurdly large");
    elements *= dim;
    t.shape.push_back(static_cast<int64_t>(dim));
  }
  auto off = e.find("data_offsets");
  if (off == e.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
      !(*off)[1].is_number_unsigned()) {
    return bad("data_offsets must be [begin, end]");
  }
  const uint64_t begin = (*off)[0].get<uint64_t>(), end = (*off)[1].get<uint64_t>();
  if (begin > end) return bad(absl::StrCat("data_offsets [", begin, ", ", end, "] run backwards"));
  if (end > data_size) {
    return bad(absl::StrCat("data_offsets [", begin, ", ", end, "] reach past the end of the data (", data_size,
                            " bytes): the file is truncated or its header is wrong"));
  }
  const uint64_t expected = elements * DTypeSize(t.dtype);
  if (end - begin != expected) {
    return bad(absl::StrCat("holds ", end - begin, " bytes but shape ", t.ShapeString(), " of ",
                            DTypeName(t.dtype), " needs ", expected));
  }
  t.data = data + begin;
  t.nbytes = end - begin;
  return t;
}

}  // namespace

absl::StatusOr<SafetensorsHeader> ParseSafetensors(const std::string& path, absl::Span<const uint8_t> file) {
  const uint64_t size = file.size();
  if (size < 8) return Corrupt(path, absl::StrCat("only ", size, " bytes, shorter than the 8-byte header length"));
  const uint8_t* bytes = file.data();
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | bytes[i];  // little endian
  if (header_len > kMaxHeaderBytes || header_len > size - 8) {
    return Corrupt(path, absl::StrCat("header length ", header_len, " does not fit in the file of ", size,
                                      " bytes (truncated or not a safetensors file)"));
  }
  nlohmann::json header = nlohmann::json::parse(bytes + 8, bytes + 8 + header_len, nullptr, /*allow_exceptions=*/false);
  if (header.is_discarded() || !header.is_object()) return Corrupt(path, "header is not a JSON object");

  SafetensorsHeader parsed;
  const uint8_t* data = bytes + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  std::vector<std::pair<uint64_t, uint64_t>> ranges;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") {
      if (it->is_object()) {
        for (auto m = it->begin(); m != it->end(); ++m) {
          if (m->is_string()) parsed.metadata[m.key()] = m->get<std::string>();
        }
      }
      continue;
    }
    ASSIGN_OR_RETURN(TensorInfo t, ParseEntry(path, it.key(), *it, data, data_size));
    if (t.nbytes > 0) ranges.emplace_back(t.data - data, t.data - data + t.nbytes);
    parsed.tensors.emplace(it.key(), std::move(t));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t i = 1; i < ranges.size(); ++i) {
    if (ranges[i].first < ranges[i - 1].second) {
      return Corrupt(path, absl::StrCat("tensor data ranges overlap at byte ", ranges[i].first));
    }
  }
  return parsed;
}

absl::StatusOr<std::unique_ptr<SafetensorsFile>> SafetensorsFile::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return absl::InvalidArgumentError(absl::StrCat(path, " is not a regular file"));
  }
  auto file = std::unique_ptr<SafetensorsFile>(new SafetensorsFile());
  file->path_ = path;
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size < 8) {  // the parser's own error, without asking mmap for an empty mapping
    ::close(fd);
    return ParseSafetensors(path, {}).status();
  }
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return absl::InternalError(absl::StrCat("cannot map ", path, ": ", std::strerror(errno)));
  file->mapping_ = map;
  file->mapping_size_ = size;
  ASSIGN_OR_RETURN(SafetensorsHeader header,
                   ParseSafetensors(path, absl::MakeConstSpan(static_cast<const uint8_t*>(map), size)));
  file->tensors_ = std::move(header.tensors);
  file->metadata_ = std::move(header.metadata);
  return file;
}

SafetensorsFile::~SafetensorsFile() {
  if (mapping_) ::munmap(mapping_, mapping_size_);
}

}  // namespace gemma3n
