// One memory-mapped .safetensors file: an 8-byte little-endian header length,
// a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__"},
// then the raw tensor bytes. The header is validated in full before any tensor
// is handed out: offsets inside the file, sizes equal to shape x dtype, known
// dtypes, no overlapping ranges.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/checkpoint/tensor_info.h"

namespace gemma3n {

// What the header of a safetensors file says; each TensorInfo's data points
// into the bytes it was parsed from.
struct SafetensorsHeader {
  std::map<std::string, TensorInfo> tensors;
  std::map<std::string, std::string> metadata;
};

// The whole file's bytes (header length, JSON header, data), validated as
// Open does; `path` names the file in errors and in each TensorInfo. The
// one parser of safetensors bytes: Open maps the file and calls it.
absl::StatusOr<SafetensorsHeader> ParseSafetensors(const std::string& path, absl::Span<const uint8_t> bytes);

class SafetensorsFile {
 public:
  static absl::StatusOr<std::unique_ptr<SafetensorsFile>> Open(const std::string& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::string& path() const { return path_; }
  const std::map<std::string, TensorInfo>& tensors() const { return tensors_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* mapping_ = nullptr;
  size_t mapping_size_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace gemma3n
