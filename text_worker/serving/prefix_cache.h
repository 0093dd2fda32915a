// The KV caches of prompts and of finished sequences, kept so that a later
// request starting with the same tokens skips prefilling them: multi-turn
// chat resends its whole history, and many requests share one system
// prompt (vLLM's automatic prefix caching, llama.cpp server's cache_prompt).
//  - Per MatFormer plan: a cache is only reused by the plan that wrote it.
//  - A prefix matches token by token, and at soft-token positions (image or
//    audio rows) the rows must be equal bit for bit too: the placeholder id
//    is the same for every image.
//  - A hit is a copy (the stored entry stays for the next request with the
//    same prefix), truncated to the matched prefix; at most prompt - 1
//    tokens are reused, so the last prompt token always runs and gives the
//    logits of the first generated token.
//  - Two entries per sequence: its prompt, copied when the prompt is
//    prefilled with every row of the sliding-window layers (their rings
//    deferred until then), so any prefix of it can be continued (a shared
//    system prompt, the same prompt again); and at its end the whole cache,
//    prompt and reply, whose rings hold only their last `window` rows, so it
//    serves a prefix P only if the rows a query at P reads are still there
//    (KvCache::Reusable): P >= L - 1 once L passed the window, which the
//    next turn of a conversation (P = L) is.
//  - Bounded by bytes (KV rows, tokens and soft rows), least recently used
//    out first.
// Rows come out as the earlier sequence computed them (its prompt prefilled
// in chunks, its reply decoded a token at a time), so they equal those of a
// fresh prefill to rounding, as rows of any two chunkings of a prompt do:
// OpenBLAS's edge kernels and the decode kernels sum in other orders (the
// scheduler's 256-token prefill budget splits prompts anyway). Not bit for
// bit: where rounding moves a gate value across the sparse FFN's top-k cut,
// or a greedy choice is a near tie, a token can differ, as it can between
// two chunkings. Used by the batch scheduler's loop thread only: not locked.
#pragma once

#include <cstdint>
#include <list>
#include <memory>
#include <vector>

#include "absl/types/span.h"
#include "text_worker/matformer/elastic_plan.h"
#include "text_worker/model/kv_cache.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {

struct PrefixCacheStats {
  int entries = 0;
  int64_t bytes = 0;           // held now (within the budget)
  int64_t lookups = 0;
  int64_t hits = 0;            // lookups that reused at least one token
  int64_t reused_tokens = 0;   // prompt tokens not prefilled thanks to hits
};

struct PrefixHit {
  std::unique_ptr<KvCache> cache;  // holds `reused` tokens, room for max_tokens
  int64_t reused = 0;
};

class PrefixCache {
 public:
  // budget_bytes 0: nothing is kept and lookups never hit.
  explicit PrefixCache(int64_t budget_bytes) : budget_(budget_bytes) {}

  bool enabled() const { return budget_ > 0; }
  // Whether an entry of `bytes` could be kept at all.
  bool Fits(int64_t bytes) const { return enabled() && bytes <= budget_; }

  // Keeps `cache`, which holds `tokens` (cache->length() == tokens.size())
  // with `soft` rows of width `hidden` at some of those positions (others
  // are ignored), in place of an entry of the same tokens, then drops least
  // recently used entries down to the budget. An entry larger than the
  // whole budget is not kept.
  void Insert(const ElasticPlan* plan, std::vector<int> tokens, const SoftTokenRows& soft, int64_t hidden,
              std::unique_ptr<KvCache> cache);

  // The longest reusable stored prefix of `prompt` (with its soft rows),
  // copied into a cache for up to max_tokens positions; reused 0 and no
  // cache when there is none.
  PrefixHit Lookup(const ElasticPlan* plan, absl::Span<const int> prompt, const SoftTokenRows& soft,
                   int64_t hidden, int64_t max_tokens);

  const PrefixCacheStats& stats() const { return stats_; }

 private:
  // Soft rows by position, sorted, for comparing prefixes.
  struct SoftRow {
    int64_t position;
    const float* row;  // [hidden]
  };
  struct Entry {
    const ElasticPlan* plan;
    std::vector<int> tokens;
    std::vector<int64_t> soft_positions;  // sorted
    std::vector<float> soft_rows;         // [soft_positions.size(), hidden]
    std::unique_ptr<KvCache> cache;
    int64_t bytes = 0;
  };
  static std::vector<SoftRow> SortedSoft(const SoftTokenRows& soft, int64_t hidden);
  // How many leading positions of `prompt` equal `e`'s (ids, and soft rows
  // where either has one), at most `limit`.
  static int64_t CommonPrefix(const Entry& e, absl::Span<const int> prompt, const std::vector<SoftRow>& soft,
                              int64_t hidden, int64_t limit);
  void Evict();

  const int64_t budget_;
  std::list<Entry> entries_;  // most recently used first
  PrefixCacheStats stats_;
};

}  // namespace gemma3n
