#include "common/checkpoint/checkpoint.h"

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/checkpoint/mapped_pages.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

bool IsDir(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// A shard name from the index must stay inside the model directory.
// Large weights go on 2 MB-aligned memory the kernel may back with huge
// pages: decoding streams through every row of every matrix, and with 4 KB
// pages nearly each row costs a TLB miss.
uint8_t* AllocateForWeights(size_t n) {
  constexpr size_t kHuge = 2u << 20;
  if (n < 4 * kHuge) return static_cast<uint8_t*>(std::malloc(n));
  const size_t rounded = (n + kHuge - 1) / kHuge * kHuge;
  void* p = std::aligned_alloc(kHuge, rounded);
  if (p) madvise(p, rounded, MADV_HUGEPAGE);
  return static_cast<uint8_t*>(p);
}

bool SafeShardName(const std::string& name) {
  return !name.empty() && name.find('/') == std::string::npos && name != "." && name != "..";
}

}  // namespace

absl::StatusOr<nlohmann::json> ReadJsonFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  return ParseJson(path, buffer.str());
}

absl::StatusOr<nlohmann::json> ParseJson(const std::string& source, absl::string_view text) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {  // parse_error, and out_of_range for a number like 1e999
    return absl::InvalidArgumentError(absl::StrCat(source, " is not valid JSON: ", e.what()));
  }
}

absl::StatusOr<std::map<std::string, std::string>> ParseShardIndex(const std::string& index_path,
                                                                   const nlohmann::json& index) {
  auto map = index.is_object() ? index.find("weight_map") : index.end();
  if (map == index.end() || !map->is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(index_path, " has no weight_map object"));
  }
  std::map<std::string, std::string> out;
  for (auto it = map->begin(); it != map->end(); ++it) {
    if (!it->is_string() || !SafeShardName(it->get<std::string>())) {
      return absl::InvalidArgumentError(absl::StrCat(index_path, ": bad shard name ", it->dump(), " for tensor ",
                                                     it.key(), " (a file name of the index's directory)"));
    }
    out[it.key()] = it->get<std::string>();
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> ReadWeightMap(const std::string& index_path) {
  ASSIGN_OR_RETURN(nlohmann::json index, ReadJsonFile(index_path));
  return ParseShardIndex(index_path, index);
}

absl::StatusOr<std::unique_ptr<Checkpoint>> Checkpoint::Open(const std::string& dir,
                                                              std::vector<std::string> prefixes,
                                                              CheckpointOptions options) {
  if (!IsDir(dir)) return absl::NotFoundError(absl::StrCat("model directory ", dir, " does not exist"));
  auto ckpt = std::unique_ptr<Checkpoint>(new Checkpoint());
  ckpt->dir_ = dir;
  ckpt->prefixes_ = std::move(prefixes);
  ckpt->options_ = options;
  const std::string config_path = dir + "/config.json";
  if (!IsFile(config_path)) return absl::NotFoundError(absl::StrCat("no config.json in ", dir));
  ASSIGN_OR_RETURN(ckpt->config_, ReadJsonFile(config_path));
  if (!ckpt->config_.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat(config_path, " is not a JSON object"));
  }
  const std::string model_type = StringFieldOr(ckpt->config_, "model_type", "");
  if (model_type != "gemma3n" && model_type != "gemma3n_text") {
    return absl::InvalidArgumentError(absl::StrCat(config_path, ": model_type '", model_type,
                                                   "' is not a Gemma 3n checkpoint (expected 'gemma3n')"));
  }

  // Which files hold which tensors: the index, or the single file.
  std::map<std::string, std::vector<std::string>> wanted;  // file -> visible tensor names
  const std::string index_path = dir + "/model.safetensors.index.json";
  const std::string single_path = dir + "/model.safetensors";
  if (IsFile(index_path)) {
    ASSIGN_OR_RETURN(const auto shards, ReadWeightMap(index_path));
    for (const auto& [tensor, shard] : shards) {
      if (ckpt->Visible(tensor)) wanted[shard].push_back(tensor);
    }
  } else if (IsFile(single_path)) {
    wanted["model.safetensors"] = {};  // all visible tensors of the file
  } else {
    return absl::NotFoundError(absl::StrCat("no weights in ", dir, ": expected model.safetensors or ",
                                            "model.safetensors.index.json with its shards"));
  }

  for (const auto& [name, tensors] : wanted) {
    const std::string path = dir + "/" + name;
    if (!IsFile(path)) {
      return absl::NotFoundError(absl::StrCat("shard ", path, " listed in the index is missing"));
    }
    ASSIGN_OR_RETURN(auto file, SafetensorsFile::Open(path));
    for (const auto& [tname, info] : file->tensors()) {
      if (ckpt->Visible(tname)) ckpt->tensors_.emplace(tname, info);
    }
    for (const std::string& t : tensors) {
      if (!file->tensors().count(t)) {
        return absl::DataLossError(absl::StrCat("tensor ", t, " is listed in ", index_path, " but missing from ", path));
      }
    }
    spdlog::debug("mapped {} ({} tensors)", path, file->tensors().size());
    ckpt->files_.push_back(std::move(file));
  }
  return ckpt;
}

bool Checkpoint::Visible(const std::string& name) const {
  if (prefixes_.empty()) return true;
  for (const auto& p : prefixes_) {
    if (absl::StartsWith(name, p)) return true;
  }
  return false;
}

bool Checkpoint::Has(const std::string& name) const { return tensors_.count(name) > 0; }

absl::StatusOr<TensorInfo> Checkpoint::Get(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) {
    if (!Visible(name)) {
      return absl::FailedPreconditionError(absl::StrCat("tensor '", name, "' is outside this component's prefixes (",
                                              absl::StrJoin(prefixes_, ", "), ")"));
    }
    return absl::NotFoundError(absl::StrCat("tensor '", name, "' not found in checkpoint ", dir_));
  }
  std::lock_guard<std::mutex> lock(mu_);
  accessed_.insert(name);
  if (!options_.preload || it->second.nbytes == 0) return it->second;
  auto& copy = copies_[name];
  if (!copy) {
    const TensorInfo& t = it->second;
    copy.reset(AllocateForWeights(t.nbytes));
    if (!copy) return absl::ResourceExhaustedError(absl::StrCat("out of memory copying tensor '", name, "'"));
    std::memcpy(copy.get(), t.data, t.nbytes);
    ReleaseMappedPages(t.data, t.nbytes);
  }
  TensorInfo t = it->second;
  t.data = copy.get();
  return t;
}

absl::StatusOr<TensorInfo> Checkpoint::Get(const std::string& name, const std::vector<int64_t>& shape) const {
  ASSIGN_OR_RETURN(TensorInfo t, Get(name));
  if (t.shape != shape) {
    TensorInfo expected;
    expected.shape = shape;
    return absl::InvalidArgumentError(absl::StrCat("tensor '", name, "' in ", t.file, " has shape ", t.ShapeString(),
                                                   ", expected ", expected.ShapeString()));
  }
  return t;
}

std::vector<std::string> Checkpoint::TensorNames() const {
  std::vector<std::string> names;
  for (const auto& [name, info] : tensors_) names.push_back(name);
  return names;
}

std::set<std::string> Checkpoint::AccessedTensors() const {
  std::lock_guard<std::mutex> lock(mu_);
  return accessed_;
}

std::vector<std::string> Checkpoint::MappedFiles() const {
  std::vector<std::string> out;
  for (const auto& f : files_) out.push_back(f->path());
  return out;
}

}  // namespace gemma3n
