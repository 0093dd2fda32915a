// Reading golden tensors (safetensors files of reference outputs) in tests.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "common/checkpoint/safetensors_file.h"

namespace gemma3n::testing {

std::string TestDataPath(const std::string& relative);  // under tests/data
std::string TinyModelDir();                             // tests/data/gemma3n-tiny

class GoldenFile {
 public:
  explicit GoldenFile(const std::string& relative_path);  // dies (test failure) if unreadable
  std::vector<float> F32(const std::string& name) const;
  std::vector<int> Ids(const std::string& name) const;  // I64 -> int
  std::vector<uint8_t> Bytes(const std::string& name) const;  // U8 as stored
  std::vector<int64_t> Shape(const std::string& name) const;
  bool Has(const std::string& name) const;

 private:
  std::unique_ptr<SafetensorsFile> file_;
};

// max |a - b| (sizes must match, else +inf).
float MaxAbsDiff(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace gemma3n::testing
