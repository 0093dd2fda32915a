#include "text_worker/serving/prefix_cache.h"

#include <algorithm>
#include <cstring>

namespace gemma3n {

std::vector<PrefixCache::SoftRow> PrefixCache::SortedSoft(const SoftTokenRows& soft, int64_t hidden) {
  std::vector<SoftRow> out(soft.positions.size());
  for (size_t i = 0; i < out.size(); ++i) out[i] = {soft.positions[i], soft.rows.data() + i * hidden};
  std::sort(out.begin(), out.end(), [](const SoftRow& a, const SoftRow& b) { return a.position < b.position; });
  return out;
}

void PrefixCache::Insert(const ElasticPlan* plan, std::vector<int> tokens, const SoftTokenRows& soft, int64_t hidden,
                         std::unique_ptr<KvCache> cache) {
  if (!enabled() || tokens.empty() || cache->length() != static_cast<int64_t>(tokens.size())) return;
  Entry e;
  e.plan = plan;
  e.tokens = std::move(tokens);
  for (const SoftRow& s : SortedSoft(soft, hidden)) {
    if (s.position >= static_cast<int64_t>(e.tokens.size())) break;  // not in the cache
    e.soft_positions.push_back(s.position);
    e.soft_rows.insert(e.soft_rows.end(), s.row, s.row + hidden);
  }
  e.bytes = cache->bytes() + static_cast<int64_t>(e.tokens.size() * sizeof(int) +
                                                  e.soft_positions.size() * sizeof(int64_t) +
                                                  e.soft_rows.size() * sizeof(float));
  e.cache = std::move(cache);
  if (e.bytes > budget_) return;
  // The same tokens again (a retried request): one entry.
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->plan == plan && it->tokens == e.tokens && it->soft_positions == e.soft_positions &&
        it->soft_rows == e.soft_rows) {
      stats_.bytes -= it->bytes;
      entries_.erase(it);
      break;
    }
  }
  stats_.bytes += e.bytes;
  entries_.push_front(std::move(e));
  Evict();
}

void PrefixCache::Evict() {
  while (stats_.bytes > budget_ && !entries_.empty()) {
    stats_.bytes -= entries_.back().bytes;
    entries_.pop_back();
  }
  stats_.entries = static_cast<int>(entries_.size());
}

int64_t PrefixCache::CommonPrefix(const Entry& e, absl::Span<const int> prompt, const std::vector<SoftRow>& soft,
                                  int64_t hidden, int64_t limit) {
  limit = std::min<int64_t>(limit, static_cast<int64_t>(e.tokens.size()));
  int64_t n = std::mismatch(e.tokens.begin(), e.tokens.begin() + limit, prompt.begin()).first - e.tokens.begin();
  // Walk both sorted soft-position lists below n: the first position that is
  // soft in only one of them, or soft in both with different rows, ends the
  // prefix there.
  size_t i = 0, j = 0;
  while (true) {
    const int64_t a = i < e.soft_positions.size() ? e.soft_positions[i] : n;
    const int64_t b = j < soft.size() ? soft[j].position : n;
    const int64_t p = std::min(a, b);
    if (p >= n) break;
    if (a != b || std::memcmp(e.soft_rows.data() + i * hidden, soft[j].row, sizeof(float) * hidden) != 0) {
      n = p;
      break;
    }
    ++i;
    ++j;
  }
  return n;
}

PrefixHit PrefixCache::Lookup(const ElasticPlan* plan, absl::Span<const int> prompt, const SoftTokenRows& soft,
                              int64_t hidden, int64_t max_tokens) {
  PrefixHit hit;
  if (!enabled() || prompt.size() < 2) return hit;
  stats_.lookups += 1;
  const std::vector<SoftRow> sorted = SortedSoft(soft, hidden);
  // The last prompt token always runs: its logits give the first new token.
  const int64_t limit = static_cast<int64_t>(prompt.size()) - 1;
  auto best = entries_.end();
  int64_t best_len = 0;
  for (auto it = entries_.begin(); it != entries_.end(); ++it) {
    if (it->plan != plan) continue;
    const int64_t n = CommonPrefix(*it, prompt, sorted, hidden, limit);
    if (n > best_len && it->cache->Reusable(n)) {
      best = it;
      best_len = n;
    }
  }
  if (best == entries_.end()) return hit;
  entries_.splice(entries_.begin(), entries_, best);  // most recently used
  // Rings deferred: the new sequence's prompt is kept whole in its turn.
  hit.cache = best->cache->CopyPrefix(best_len, max_tokens, /*defer_rings=*/true);
  hit.reused = best_len;
  stats_.hits += 1;
  stats_.reused_tokens += best_len;
  return hit;
}

}  // namespace gemma3n
