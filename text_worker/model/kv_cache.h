// The K/V cache of one sequence. Rows are [kv_heads * head_dim] floats, keys
// after k_norm and RoPE, values after v_norm.
//  - sliding-window layers keep a ring of `sliding_window` rows (a query sees
//    itself and the window-1 tokens before it; nothing older is ever read);
//  - full-attention layers keep every row, grown on demand up to max_tokens;
//  - KV-shared layers have no store: they read their source layer's.
// With defer_rings the sliding-window layers keep every row too, until
// MakeRings(): the prefix cache copies a prompt's rows in that form, so any
// prefix of it can be continued later (a ring only holds its last window).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "common/config/model_config.h"
#include "text_worker/model/layer_spec.h"

namespace gemma3n {

class KvCache {
 public:
  // Stores for the non-shared layers among `specs` (all layers, or the kept
  // layers of a MatFormer plan).
  KvCache(const TextConfig& config, const std::vector<LayerSpec>& specs, int64_t max_tokens,
          bool defer_rings = false);

  int64_t length() const { return length_; }        // tokens stored = next position
  int64_t max_tokens() const { return max_tokens_; }
  void set_length(int64_t n) { length_ = n; }

  bool HasStore(int layer) const { return layer < static_cast<int>(stores_.size()) && stores_[layer].present; }
  bool IsRing(int layer) const { return stores_[layer].ring; }
  // Oldest position still held by `layer`'s store, given length() tokens.
  int64_t OldestRetained(int layer) const;
  // Writes rows for positions [pos, pos + n). For a ring, only the last
  // `capacity` rows land.
  void Write(int layer, int64_t pos, const float* k, const float* v, int64_t n);
  const float* Key(int layer, int64_t pos) const { return Row(stores_[layer].k, layer, pos); }
  const float* Value(int layer, int64_t pos) const { return Row(stores_[layer].v, layer, pos); }
  // Bytes held (for logs and limits).
  int64_t bytes() const;
  // Bytes one token's rows take in a store that keeps every row (K and V of
  // each layer with a store).
  int64_t bytes_per_token() const;

  // Whether the first `prefix` tokens (prefix <= length()) can be continued
  // at position `prefix`: every ring still holds the rows a query there
  // reads (from prefix - (window - 1)), not overwritten by later tokens.
  bool Reusable(int64_t prefix) const;
  // Whether every row of the first length() tokens is still held (no ring
  // has moved past its first rows): what a copy with deferred rings needs.
  bool HoldsAllRows() const;
  // A new cache with this one's first `length` tokens (Reusable(length), and
  // HoldsAllRows() for defer_rings) and
  // room for max_tokens, its sliding layers a ring or not as the
  // constructor would make them for max_tokens and defer_rings.
  std::unique_ptr<KvCache> CopyPrefix(int64_t length, int64_t max_tokens, bool defer_rings = false) const;
  // Turns the deferred sliding-window stores into rings of their last
  // `window` rows (what the constructor would have made), freeing the rest.
  void MakeRings();

 private:
  struct Store {
    bool present = false;
    bool sliding = false;       // a sliding-window layer (a ring once max_tokens > window)
    bool ring = false;
    int64_t capacity = 0;       // rows allocated (ring: fixed window)
    std::vector<float> k, v;    // [capacity, row]
  };
  // Empty stores for the layers `layout` has, for up to max_tokens.
  KvCache(const KvCache& layout, int64_t max_tokens, bool defer_rings);
  void Open(Store& s, bool sliding, bool defer_rings);
  const float* Row(const std::vector<float>& buf, int layer, int64_t pos) const;
  void Reserve(Store& s, int64_t rows);

  int64_t row_ = 0;
  int64_t window_ = 0;  // sliding_window
  int64_t max_tokens_ = 0;
  int64_t length_ = 0;
  std::vector<Store> stores_;
};

}  // namespace gemma3n
