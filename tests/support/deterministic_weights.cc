#include "tests/support/deterministic_weights.h"

#include <openssl/evp.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/checkpoint/dtype.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/support/golden.h"

namespace gemma3n::testing {
namespace {

uint32_t Fmix32(uint32_t x) {
  x ^= x >> 16;
  x *= 0x85EBCA6Bu;
  x ^= x >> 13;
  x *= 0xC2B2AE35u;
  x ^= x >> 16;
  return x;
}

float Bf16Round(float x) { return Bf16ToF32(F32ToBf16(x)); }

}  // namespace

WeightRole AudioTowerRole(const std::string& name, const std::vector<int64_t>& shape) {
  if (absl::EndsWith(name, "attn.per_dim_scale")) return {0.0f, 1.0f};
  if (absl::EndsWith(name, "embed_audio.embedding.weight")) return {0.0f, 1.0f};
  if (shape.size() == 1 && absl::EndsWith(name, ".weight")) return {1.0f, 0.09375f};
  int64_t fan_in = 1;
  for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
  const float gain =
      absl::EndsWith(name, "attn.q_proj.weight") || absl::EndsWith(name, "attn.k_proj.weight") ? 2.0f : 1.0f;
  return {0.0f, gain * Bf16Round(static_cast<float>(std::sqrt(3.0 / fan_in)))};
}

WeightRole VisionTowerRole(const std::string& name, const std::vector<int64_t>& shape) {
  if (absl::EndsWith(name, "conv_stem.conv.bias")) return {0.0f, 0.25f};
  if (absl::EndsWith(name, "layer_scale.gamma")) return {0.09375f, 0.046875f};
  if (absl::EndsWith(name, "embed_vision.embedding.weight")) return {0.0f, 1.0f};
  if (shape.size() == 1 && absl::EndsWith(name, ".weight")) return {1.0f, 0.09375f};
  int64_t fan_in = 1;
  for (size_t i = 1; i < shape.size(); ++i) fan_in *= shape[i];
  const float gain =
      absl::EndsWith(name, "attn.query.proj.weight") || absl::EndsWith(name, "attn.key.proj.weight") ? 2.0f : 1.0f;
  return {0.0f, gain * Bf16Round(static_cast<float>(std::sqrt(3.0 / fan_in)))};
}

absl::Status WriteDeterministicSafetensors(
    const std::string& path, uint32_t seed, std::vector<NamedShape> tensors,
    const std::function<WeightRole(const std::string&, const std::vector<int64_t>&)>& role,
    const std::map<std::string, std::string>& metadata) {
  std::sort(tensors.begin(), tensors.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  nlohmann::json header = nlohmann::json::object();
  int64_t offset = 0;
  for (const auto& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    header[t.name] = {{"dtype", "BF16"}, {"shape", t.shape}, {"data_offsets", {offset, offset + 2 * n}}};
    offset += 2 * n;
  }
  header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');
  // Unique per process: parallel test runs may generate the same file.
  const std::string tmp = absl::StrCat(path, ".partial.", getpid());
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  const uint64_t len = text.size();
  out.write(reinterpret_cast<const char*>(&len), 8);
  out << text;
  std::vector<uint16_t> buffer;
  for (const auto& t : tensors) {
    int64_t n = 1;
    for (int64_t d : t.shape) n *= d;
    const WeightRole r = role(t.name, t.shape);
    const uint32_t key = Fmix32(static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(t.name.data()),
                                                             static_cast<uInt>(t.name.size()))) ^
                                (seed * 0x9E3779B9u));
    buffer.resize(static_cast<size_t>(n));
    for (int64_t j = 0; j < n; ++j) {
      const uint32_t h = Fmix32(Fmix32(static_cast<uint32_t>(j)) ^ key);
      const float v = static_cast<float>(static_cast<int32_t>(h >> 16) - 32768) * (1.0f / 32768.0f);
      buffer[j] = F32ToBf16(r.offset + r.scale * v);
    }
    out.write(reinterpret_cast<const char*>(buffer.data()), n * 2);
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", tmp, " failed"));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  return absl::OkStatus();
}

std::string FileSha256(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), buf.size());
    EVP_DigestUpdate(ctx, buf.data(), static_cast<size_t>(in.gcount()));
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, digest, &n);
  EVP_MD_CTX_free(ctx);
  std::string hex;
  for (unsigned int i = 0; i < n; ++i) hex += absl::StrFormat("%02x", digest[i]);
  return hex;
}

std::string RecordedSha256(const std::string& name) {
  std::ifstream in(TestDataPath(name + "/model.safetensors.sha256"));
  std::string sha;
  in >> sha;
  return sha;
}

std::string EnsureRealDimsCheckpoint(
    const std::string& cache_dir, const std::string& name,
    const std::function<std::vector<NamedShape>(const nlohmann::json& config)>& tensors,
    const std::function<WeightRole(const std::string&, const std::vector<int64_t>&)>& role) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::path(cache_dir) / name;
  const fs::path weights = dir / "model.safetensors";
  if (fs::exists(weights) && FileSha256(weights.string()) == RecordedSha256(name)) return dir.string();
  fs::create_directories(dir);
  fs::copy_file(TestDataPath(name + "/config.json"), dir / "config.json", fs::copy_options::overwrite_existing);
  std::ifstream in(dir / "config.json");
  const nlohmann::json config = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  EXPECT_FALSE(config.is_discarded()) << name << "/config.json";
  const absl::Status status = WriteDeterministicSafetensors(
      weights.string(), 1, tensors(config), role,
      {{"format", "pt"}, {"generator", "make_weights.py (see README.md)"}, {"seed", "1"}});
  EXPECT_TRUE(status.ok()) << status;
  return dir.string();
}

}  // namespace gemma3n::testing
