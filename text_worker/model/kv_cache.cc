#include "text_worker/model/kv_cache.h"

#include <algorithm>
#include <cstring>

namespace gemma3n {

KvCache::KvCache(const TextConfig& c, const std::vector<LayerSpec>& specs, int64_t max_tokens, bool defer_rings)
    : row_(static_cast<int64_t>(c.num_key_value_heads) * c.head_dim),
      window_(c.sliding_window),
      max_tokens_(max_tokens) {
  stores_.resize(c.num_hidden_layers);
  for (const LayerSpec& s : specs) {
    if (!s.kv_shared) Open(stores_[s.index], s.attention == AttentionType::kSliding, defer_rings);
  }
}

KvCache::KvCache(const KvCache& layout, int64_t max_tokens, bool defer_rings)
    : row_(layout.row_), window_(layout.window_), max_tokens_(max_tokens) {
  stores_.resize(layout.stores_.size());
  for (size_t l = 0; l < stores_.size(); ++l) {
    if (layout.stores_[l].present) Open(stores_[l], layout.stores_[l].sliding, defer_rings);
  }
}

void KvCache::Open(Store& st, bool sliding, bool defer_rings) {
  st.present = true;
  st.sliding = sliding;
  st.ring = sliding && window_ < max_tokens_ && !defer_rings;
  if (st.ring) Reserve(st, window_);
}

void KvCache::MakeRings() {
  for (size_t l = 0; l < stores_.size(); ++l) {
    Store& st = stores_[l];
    if (!st.present || !st.sliding || st.ring || window_ >= max_tokens_) continue;
    // Reopen the store as the constructor would, then write back the rows
    // the ring keeps (the last `window`, every row held at [pos * row]).
    const Store whole = std::move(st);
    st = Store();
    Open(st, /*sliding=*/true, /*defer_rings=*/false);
    for (int64_t pos = std::max<int64_t>(0, length_ - window_); pos < length_; ++pos) {
      Write(static_cast<int>(l), pos, whole.k.data() + pos * row_, whole.v.data() + pos * row_, 1);
    }
  }
}

bool KvCache::Reusable(int64_t prefix) const {
  if (prefix < 0 || prefix > length_) return false;
  const int64_t first_read = std::max<int64_t>(0, prefix - (window_ - 1));
  for (size_t l = 0; l < stores_.size(); ++l) {
    if (stores_[l].present && stores_[l].ring && first_read < OldestRetained(static_cast<int>(l))) return false;
  }
  return true;
}

bool KvCache::HoldsAllRows() const {
  for (size_t l = 0; l < stores_.size(); ++l) {
    if (stores_[l].present && OldestRetained(static_cast<int>(l)) > 0) return false;
  }
  return true;
}

std::unique_ptr<KvCache> KvCache::CopyPrefix(int64_t length, int64_t max_tokens, bool defer_rings) const {
  std::unique_ptr<KvCache> out(new KvCache(*this, max_tokens, defer_rings));
  for (size_t l = 0; l < stores_.size(); ++l) {
    if (!stores_[l].present) continue;
    const int layer = static_cast<int>(l);
    Store& to = out->stores_[l];
    if (!to.ring) out->Reserve(to, length);
    // The rows both hold: this store's retained ones, the new store's window.
    const int64_t first = std::max(OldestRetained(layer), to.ring ? std::max<int64_t>(0, length - to.capacity) : 0);
    for (int64_t pos = first; pos < length; ++pos) out->Write(layer, pos, Key(layer, pos), Value(layer, pos), 1);
  }
  out->length_ = length;
  return out;
}

void KvCache::Reserve(Store& s, int64_t rows) {
  if (rows <= s.capacity) return;
  s.capacity = rows;
  s.k.resize(static_cast<size_t>(rows * row_));
  s.v.resize(static_cast<size_t>(rows * row_));
}

int64_t KvCache::OldestRetained(int layer) const {
  const Store& s = stores_[layer];
  return s.ring ? std::max<int64_t>(0, length_ - s.capacity) : 0;
}

void KvCache::Write(int layer, int64_t pos, const float* k, const float* v, int64_t n) {
  Store& s = stores_[layer];
  if (!s.ring) {
    // Grow geometrically, never past max_tokens.
    if (pos + n > s.capacity) {
      Reserve(s, std::min(max_tokens_, std::max(pos + n, 2 * s.capacity)));
    }
    std::memcpy(s.k.data() + pos * row_, k, sizeof(float) * n * row_);
    std::memcpy(s.v.data() + pos * row_, v, sizeof(float) * n * row_);
    return;
  }
  const int64_t skip = std::max<int64_t>(0, n - s.capacity);
  for (int64_t i = skip; i < n; ++i) {
    const int64_t slot = (pos + i) % s.capacity;
    std::memcpy(s.k.data() + slot * row_, k + i * row_, sizeof(float) * row_);
    std::memcpy(s.v.data() + slot * row_, v + i * row_, sizeof(float) * row_);
  }
}

const float* KvCache::Row(const std::vector<float>& buf, int layer, int64_t pos) const {
  const Store& s = stores_[layer];
  const int64_t slot = s.ring ? pos % s.capacity : pos;
  return buf.data() + slot * row_;
}

int64_t KvCache::bytes_per_token() const {
  int64_t stores = 0;
  for (const Store& s : stores_) stores += s.present ? 1 : 0;
  return stores * 2 * row_ * static_cast<int64_t>(sizeof(float));
}

int64_t KvCache::bytes() const {
  int64_t total = 0;
  for (const Store& s : stores_) total += static_cast<int64_t>((s.k.size() + s.v.size()) * sizeof(float));
  return total;
}

}  // namespace gemma3n
