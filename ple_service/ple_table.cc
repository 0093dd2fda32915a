#include "ple_service/ple_table.h"

#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config/model_config.h"
#include "common/status/status_macros.h"

namespace gemma3n::ple {

absl::StatusOr<std::unique_ptr<PleTable>> PleTable::Open(const std::string& model_dir, int64_t cache_limit_bytes) {
  if (cache_limit_bytes < 0) return absl::InvalidArgumentError("PLE cache limit must be >= 0");
  auto t = std::unique_ptr<PleTable>(new PleTable());
  // Only the table's prefix: no other tensor (nor shard without it) is mapped.
  ASSIGN_OR_RETURN(t->ckpt_, Checkpoint::Open(model_dir, {kPerLayerTableName}));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(t->ckpt_->config()));
  const int64_t vocab = config.text.vocab_size_per_layer_input;
  const int64_t width = static_cast<int64_t>(config.text.num_hidden_layers) * config.text.hidden_size_per_layer_input;
  if (vocab <= 0 || width <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(model_dir, "/config.json: no per-layer embeddings (",
                                                   "vocab_size_per_layer_input ", vocab, ", row width ", width, ")"));
  }
  ASSIGN_OR_RETURN(t->table_, LoadWeightMatrix(*t->ckpt_, kPerLayerTableName, vocab, width));
  if (cache_limit_bytes > 0) t->cache_ = std::make_unique<RowCache>(cache_limit_bytes, width);
  return t;
}

absl::Status PleTable::Lookup(absl::Span<const int> ids, float* out) const {
  for (size_t i = 0; i < ids.size(); ++i) {
    if (ids[i] < 0 || ids[i] >= table_.rows) {
      return absl::InvalidArgumentError(absl::StrCat("per-layer embedding id ", ids[i], " (position ", i,
                                                     ") outside [0, ", table_.rows, ")"));
    }
  }
  lookups_.fetch_add(1, std::memory_order_relaxed);
  rows_.fetch_add(static_cast<int64_t>(ids.size()), std::memory_order_relaxed);
  const int64_t width = table_.cols;
  if (!cache_) {
    for (size_t i = 0; i < ids.size(); ++i) table_.RowToF32(ids[i], out + i * width);
    return absl::OkStatus();
  }
  int64_t hits = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    float* row = out + i * width;
    if (cache_->Get(ids[i], row)) {
      ++hits;
      continue;
    }
    table_.RowToF32(ids[i], row);
    cache_->Put(ids[i], row);
  }
  hits_.fetch_add(hits, std::memory_order_relaxed);
  misses_.fetch_add(static_cast<int64_t>(ids.size()) - hits, std::memory_order_relaxed);
  return absl::OkStatus();
}

int64_t PleTable::TableBytes() const {
  const int64_t elem = table_.format == WeightMatrix::Format::kBF16 ? 2 : 4;
  return table_.rows * table_.stride * elem;
}

int64_t PleTable::ResidentBytes() const {
  // mincore wants a page-aligned start; count whole pages of the range.
  const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  const uintptr_t begin = reinterpret_cast<uintptr_t>(table_.data) / page * page;
  const uintptr_t end = reinterpret_cast<uintptr_t>(table_.data) + static_cast<uintptr_t>(TableBytes());
  const size_t pages = (end - begin + page - 1) / page;
  std::vector<unsigned char> in_core(pages);
  if (::mincore(reinterpret_cast<void*>(begin), end - begin, in_core.data()) != 0) return -1;
  int64_t resident = 0;
  for (unsigned char c : in_core) resident += c & 1;
  // The first and last pages may hold neighbouring tensors too.
  return std::min(resident * static_cast<int64_t>(page), TableBytes());
}

PleTableStats PleTable::Stats() const {
  PleTableStats s;
  s.lookups = lookups_.load();
  s.rows = rows_.load();
  s.cache_hits = hits_.load();
  s.cache_misses = misses_.load();
  s.cache_bytes = cache_ ? cache_->bytes() : 0;
  s.cache_limit_bytes = cache_ ? cache_->limit_bytes() : 0;
  s.table_bytes = TableBytes();
  s.table_resident_bytes = ResidentBytes();
  return s;
}

}  // namespace gemma3n::ple
