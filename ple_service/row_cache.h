// Hot-row cache of the PLE table: the most recently used rows, already widened
// to f32, in process memory. The mapped table lives in the page cache, which
// the kernel may evict under memory pressure (the real table is ~4.7 GB of
// bf16); rows in this cache stay in RAM and skip the bf16 -> f32 widening.
// Least recently used rows go first once `limit_bytes` would be exceeded.
// Thread-safe (one mutex; a hit is a hash lookup and one memcpy).
#pragma once

#include <cstdint>
#include <list>
#include <mutex>
#include <unordered_map>
#include <vector>

namespace gemma3n::ple {

class RowCache {
 public:
  // Holds at most limit_bytes / (4 * row_width) rows; 0 rows = never stores.
  RowCache(int64_t limit_bytes, int64_t row_width);

  // Copies row `id` into out[row_width] and marks it most recently used;
  // false when absent.
  bool Get(int id, float* out);
  // Stores row[row_width] for `id` (evicting the least recently used rows).
  void Put(int id, const float* row);

  int64_t bytes() const;        // payload bytes held: rows * 4 * row_width
  int64_t limit_bytes() const { return limit_bytes_; }

 private:
  struct Entry {
    std::list<int>::iterator order;  // position in lru_
    std::vector<float> row;
  };
  const int64_t limit_bytes_;
  const int64_t row_width_;
  const int64_t max_rows_;
  mutable std::mutex mu_;
  std::list<int> lru_;  // front = most recently used
  std::unordered_map<int, Entry> rows_;
};

}  // namespace gemma3n::ple
