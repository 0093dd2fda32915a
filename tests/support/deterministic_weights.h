// The deterministic synthetic weights of the real-dims golden sets
// (../shared/golden/real-dims/*/README.md, "Weight formula"), written by our
// own code and checked against the recorded sha256:
//   key  = fmix32(crc32(name) ^ seed * 0x9E3779B9)
//   v[j] = ((fmix32(fmix32(j) ^ key) >> 16) - 32768) / 32768
//   w[j] = bf16_rne(offset + scale * v[j])
// with (offset, scale) from the tensor's role. One safetensors file, tensors
// in name order, compact sorted-key header padded to 8 bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "common/checkpoint/tensor_info.h"
#include "nlohmann/json.hpp"

namespace gemma3n::testing {

struct WeightRole {
  float offset = 0.0f;
  float scale = 0.0f;
};


// The audio tower + embed_audio roles of real-dims/audio.
WeightRole AudioTowerRole(const std::string& name, const std::vector<int64_t>& shape);
// The vision tower + embed_vision roles of real-dims/vision.
WeightRole VisionTowerRole(const std::string& name, const std::vector<int64_t>& shape);

absl::Status WriteDeterministicSafetensors(const std::string& path, uint32_t seed,
                                           std::vector<NamedShape> tensors,
                                           const std::function<WeightRole(const std::string&, const std::vector<int64_t>&)>& role,
                                           const std::map<std::string, std::string>& metadata);

// Lowercase hex sha256 of a file (OpenSSL).
std::string FileSha256(const std::string& path);

// A real-dims golden set's weights in the build's test cache: the directory
// `cache_dir`/`name` with the config.json of tests/data/`name` and a
// model.safetensors whose sha256 is the one recorded there (generated from
// the formula when absent or different). `tensors` lists them from the config.
std::string EnsureRealDimsCheckpoint(
    const std::string& cache_dir, const std::string& name,
    const std::function<std::vector<NamedShape>(const nlohmann::json& config)>& tensors,
    const std::function<WeightRole(const std::string&, const std::vector<int64_t>&)>& role);
// The sha256 recorded in tests/data/`name`/model.safetensors.sha256.
std::string RecordedSha256(const std::string& name);

}  // namespace gemma3n::testing
