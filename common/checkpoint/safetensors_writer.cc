#include "common/checkpoint/safetensors_writer.h"

#include <cstdio>
#include <fstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/checkpoint/tensor_info.h"
#include "common/status/status_macros.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

absl::Status SafetensorsWriter::Add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                                    Producer producer) {
  if (index_.count(name)) return absl::InvalidArgumentError(absl::StrCat("tensor ", name, " added twice"));
  const int64_t elements = NumElements(shape);
  index_[name] = entries_.size();
  entries_.push_back({name, dtype, std::move(shape), elements * static_cast<int64_t>(DTypeSize(dtype)),
                      std::move(producer)});
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::WriteShard(const std::vector<const Entry*>& entries, const std::string& file_name) {
  nlohmann::json header = nlohmann::json::object();
  int64_t offset = 0;
  for (const Entry* e : entries) {
    header[e->name] = {{"dtype", std::string(DTypeName(e->dtype))},
                       {"shape", e->shape},
                       {"data_offsets", {offset, offset + e->bytes}}};
    offset += e->bytes;
  }
  header["__metadata__"] = {{"format", "pt"}};
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keep the data 8-byte aligned
  const std::string path = dir_ + "/" + file_name, tmp = path + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return absl::PermissionDeniedError(absl::StrCat("cannot write ", tmp));
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.put(static_cast<char>((n >> (8 * i)) & 0xff));
  out << text;
  for (const Entry* e : entries) {
    const auto before = out.tellp();
    RETURN_IF_ERROR(e->producer(out));
    if (out.tellp() - before != e->bytes) {
      return absl::InternalError(absl::StrCat("tensor ", e->name, ": produced ", out.tellp() - before,
                                              " bytes, expected ", e->bytes));
    }
  }
  out.close();
  if (!out) return absl::DataLossError(absl::StrCat("writing ", tmp, " failed (disk full?)"));
  if (std::rename(tmp.c_str(), path.c_str()) != 0) return absl::InternalError(absl::StrCat("cannot rename ", tmp));
  return absl::OkStatus();
}

absl::Status SafetensorsWriter::Finish() {
  // Greedy packing in declaration order.
  std::vector<std::vector<const Entry*>> shards(1);
  int64_t size = 0, total = 0;
  for (const Entry& e : entries_) {
    if (!shards.back().empty() && size + e.bytes > max_shard_) {
      shards.emplace_back();
      size = 0;
    }
    shards.back().push_back(&e);
    size += e.bytes;
    total += e.bytes;
  }
  nlohmann::json weight_map = nlohmann::json::object();
  for (size_t i = 0; i < shards.size(); ++i) {
    const std::string name = absl::StrFormat("model-%05d-of-%05d.safetensors", i + 1, shards.size());
    RETURN_IF_ERROR(WriteShard(shards[i], name));
    for (const Entry* e : shards[i]) weight_map[e->name] = name;
  }
  const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
  std::ofstream out(dir_ + "/model.safetensors.index.json", std::ios::trunc);
  out << index.dump(2) << "\n";
  if (!out) return absl::DataLossError(absl::StrCat("cannot write the index in ", dir_));
  return absl::OkStatus();
}

}  // namespace gemma3n
