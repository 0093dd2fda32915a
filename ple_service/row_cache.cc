#include "ple_service/row_cache.h"

#include <cstring>

namespace gemma3n::ple {

RowCache::RowCache(int64_t limit_bytes, int64_t row_width)
    : limit_bytes_(limit_bytes),
      row_width_(row_width),
      max_rows_(row_width > 0 ? limit_bytes / (static_cast<int64_t>(sizeof(float)) * row_width) : 0) {}

bool RowCache::Get(int id, float* out) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = rows_.find(id);
  if (it == rows_.end()) return false;
  lru_.splice(lru_.begin(), lru_, it->second.order);
  std::memcpy(out, it->second.row.data(), sizeof(float) * row_width_);
  return true;
}

void RowCache::Put(int id, const float* row) {
  if (max_rows_ <= 0) return;
  std::vector<float> copy(row, row + row_width_);  // outside the lock
  std::lock_guard<std::mutex> lock(mu_);
  if (rows_.count(id)) return;  // another thread stored it meanwhile
  while (static_cast<int64_t>(rows_.size()) >= max_rows_) {
    rows_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(id);
  rows_.emplace(id, Entry{lru_.begin(), std::move(copy)});
}

int64_t RowCache::bytes() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int64_t>(rows_.size()) * static_cast<int64_t>(sizeof(float)) * row_width_;
}

}  // namespace gemma3n::ple
