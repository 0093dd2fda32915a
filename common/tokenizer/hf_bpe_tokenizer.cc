#include "common/tokenizer/hf_bpe_tokenizer.h"

#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <queue>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_replace.h"
#include "common/tokenizer/utf8.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

constexpr char kSpaceMarker[] = "\xE2\x96\x81";  // "▁" U+2581

absl::Status Bad(const std::string& path, const std::string& what) {
  return absl::InvalidArgumentError(absl::StrCat("tokenizer file ", path, ": ", what));
}

// Fails on features this implementation does not do, rather than tokenizing
// differently from the reference.
absl::Status CheckSupported(const std::string& path, simdjson::dom::element root) {
  simdjson::dom::element model;
  if (root["model"].get(model) != simdjson::SUCCESS) return Bad(path, "no \"model\" object");
  std::string_view type;
  if (model["type"].get(type) != simdjson::SUCCESS || type != "BPE") {
    return Bad(path, absl::StrCat("model type '", std::string(type), "' is not supported (expected BPE)"));
  }
  bool byte_fallback = false;
  if (model["byte_fallback"].get(byte_fallback) != simdjson::SUCCESS || !byte_fallback) {
    return Bad(path, "only BPE with byte_fallback (Gemma's tokenizer) is supported");
  }
  simdjson::dom::element normalizer;
  if (root["normalizer"].get(normalizer) == simdjson::SUCCESS && !normalizer.is_null()) {
    std::string_view ntype, from, to;
    if (normalizer["type"].get(ntype) != simdjson::SUCCESS || ntype != "Replace" ||
        normalizer["pattern"]["String"].get(from) != simdjson::SUCCESS || from != " " ||
        normalizer["content"].get(to) != simdjson::SUCCESS || to != kSpaceMarker) {
      return Bad(path, "unsupported normalizer (expected Replace \" \" -> \"\u2581\")");
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<HfBpeTokenizer>> HfBpeTokenizer::Load(const std::string& path) {
  const auto start = std::chrono::steady_clock::now();
  const auto ms = [&] { return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count(); };
  simdjson::dom::parser parser;
  simdjson::padded_string json;
  if (simdjson::padded_string::load(path).get(json) != simdjson::SUCCESS) return Bad(path, "cannot be read");
  simdjson::dom::element root;
  if (auto error = parser.parse(json).get(root); error != simdjson::SUCCESS) {
    return Bad(path, absl::StrCat("not valid JSON (", simdjson::error_message(error), ")"));
  }
  if (absl::Status s = CheckSupported(path, root); !s.ok()) return s;
  spdlog::debug("tokenizer {}: parsed in {:.0f} ms", path, ms());

  auto t = std::unique_ptr<HfBpeTokenizer>(new HfBpeTokenizer());
  if (absl::Status s = t->ReadPieces(path, root); !s.ok()) return s;
  if (absl::Status s = t->IndexPieces(path); !s.ok()) return s;
  std::string_view unk;
  if (root["model"]["unk_token"].get(unk) == simdjson::SUCCESS) {
    auto it = t->vocab_.find(absl::string_view(unk.data(), unk.size()));
    if (it != t->vocab_.end()) t->unk_id_ = it->second;
  }
  spdlog::debug("tokenizer {}: vocabulary after {:.0f} ms", path, ms());
  if (absl::Status s = t->ReadMerges(path, root); !s.ok()) return s;
  spdlog::debug("tokenizer {}: {} pieces, {} merges, loaded in {:.0f} ms", path, t->pieces_.size(), t->merges_.size(),
                ms());
  return t;
}

absl::Status HfBpeTokenizer::ReadPieces(const std::string& path, const simdjson::dom::element& root) {
  simdjson::dom::object vocab;
  if (root["model"]["vocab"].get(vocab) != simdjson::SUCCESS) return Bad(path, "model.vocab is not an object");
  pieces_.resize(vocab.size());
  for (auto [key, value] : vocab) {
    int64_t id;
    if (value.get(id) != simdjson::SUCCESS || id < 0 || id > (1 << 24)) {
      return Bad(path, absl::StrCat("vocab entry '", std::string(key), "' has no valid id"));
    }
    if (static_cast<size_t>(id) >= pieces_.size()) pieces_.resize(id + 1);
    pieces_[id].assign(key);
  }
  is_added_.clear();
  simdjson::dom::array added;
  if (root["added_tokens"].get(added) != simdjson::SUCCESS) return absl::OkStatus();
  for (simdjson::dom::element a : added) {
    int64_t id;
    std::string_view content;
    if (a["id"].get(id) != simdjson::SUCCESS || a["content"].get(content) != simdjson::SUCCESS || id < 0 ||
        id > (1 << 24)) {
      return Bad(path, "an added token lacks id or content");
    }
    if (static_cast<size_t>(id) >= pieces_.size()) pieces_.resize(id + 1);
    pieces_[id] = std::string(content);
    added_.Add(std::string(content), static_cast<int>(id));
    if (static_cast<size_t>(id) >= is_added_.size()) is_added_.resize(id + 1, false);
    is_added_[id] = true;
  }
  return absl::OkStatus();
}

absl::Status HfBpeTokenizer::IndexPieces(const std::string& path) {
  // pieces_ is final now: the map's keys can point into it.
  vocab_.reserve(pieces_.size());
  for (size_t id = 0; id < pieces_.size(); ++id) {
    if (!pieces_[id].empty()) vocab_.emplace(pieces_[id], static_cast<int>(id));
  }
  is_added_.resize(pieces_.size(), false);
  for (int b = 0; b < 256; ++b) {
    const std::string piece = absl::StrFormat("<0x%02X>", b);
    auto it = vocab_.find(piece);
    if (it == vocab_.end()) return Bad(path, absl::StrFormat("byte-fallback piece <0x%02X> missing", b));
    byte_ids_[b] = it->second;
  }
  return absl::OkStatus();
}

absl::Status HfBpeTokenizer::ReadMerges(const std::string& path, const simdjson::dom::element& root) {
  simdjson::dom::array merges;
  if (root["model"]["merges"].get(merges) != simdjson::SUCCESS) return Bad(path, "model.merges is not a list");
  merges_.reserve(merges.size());
  int rank = 0;
  std::string_view left, right;
  std::string joined;
  for (simdjson::dom::element m : merges) {
    // Either "a b" or ["a", "b"].
    std::string_view s;
    simdjson::dom::array pair;
    if (m.get(s) == simdjson::SUCCESS) {
      const size_t space = s.find(' ');
      if (space == std::string_view::npos) return Bad(path, absl::StrCat("merge '", std::string(s), "' has no space"));
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.get(pair) == simdjson::SUCCESS && pair.size() == 2) {
      std::string_view a, b;
      if (pair.at(0).get(a) != simdjson::SUCCESS || pair.at(1).get(b) != simdjson::SUCCESS) {
        return Bad(path, "a merge pair is not two strings");
      }
      left = a;
      right = b;
    } else {
      return Bad(path, "a merge is neither \"a b\" nor [a, b]");
    }
    joined.assign(left);
    joined.append(right);
    // Heterogeneous lookups: no string is built for the two halves.
    auto l = vocab_.find(absl::string_view(left.data(), left.size()));
    auto r = vocab_.find(absl::string_view(right.data(), right.size()));
    auto lr = vocab_.find(absl::string_view(joined));
    if (l == vocab_.end() || r == vocab_.end() || lr == vocab_.end()) {
      return Bad(path, absl::StrCat("merge #", rank, " refers to pieces missing from the vocabulary"));
    }
    merges_.emplace(PairKey(l->second, r->second), Merge{rank, lr->second});
    ++rank;
  }
  return absl::OkStatus();
}

std::optional<int> HfBpeTokenizer::ModelPieceToId(absl::string_view piece) const {
  auto it = vocab_.find(piece);
  if (it == vocab_.end()) return std::nullopt;
  return it->second;
}

void HfBpeTokenizer::EncodeSegment(const std::string& word, std::vector<int>& out) const {
  std::vector<Symbol> symbols = InitialSymbols(word);
  MergePairs(symbols);
  for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next) out.push_back(symbols[i].id);
}

std::vector<HfBpeTokenizer::Symbol> HfBpeTokenizer::InitialSymbols(const std::string& word) const {
  std::vector<Symbol> symbols;
  for (size_t pos = 0; pos < word.size();) {
    const size_t len = Utf8CharLength(word, pos);
    auto it = vocab_.find(absl::string_view(word).substr(pos, len));
    if (it != vocab_.end()) {
      symbols.push_back({it->second, 0, 0, true});
    } else {
      for (size_t i = 0; i < len; ++i) symbols.push_back({byte_ids_[static_cast<uint8_t>(word[pos + i])], 0, 0, true});
    }
    pos += len;
  }
  const int n = static_cast<int>(symbols.size());
  for (int i = 0; i < n; ++i) {
    symbols[i].prev = i - 1;
    symbols[i].next = i + 1 < n ? i + 1 : -1;
  }
  return symbols;
}

void HfBpeTokenizer::MergePairs(std::vector<Symbol>& symbols) const {
  // Candidate merges of adjacent pairs, lowest rank first; ties go to the
  // leftmost pair. Entries go stale as their symbols merge; they are skipped.
  struct Candidate {
    int rank, left, right_id, left_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : left > o.left; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<Candidate>> queue;
  const auto consider = [&](int left) {
    if (left < 0) return;
    const int right = symbols[left].next;
    if (right < 0) return;
    auto m = merges_.find(PairKey(symbols[left].id, symbols[right].id));
    if (m != merges_.end()) queue.push({m->second.rank, left, symbols[right].id, symbols[left].id});
  };
  for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) consider(i);
  while (!queue.empty()) {
    const Candidate c = queue.top();
    queue.pop();
    Symbol& l = symbols[c.left];
    // Stale: the left symbol changed or its right neighbour is not the one seen.
    if (!l.alive || l.id != c.left_id || l.next < 0 || symbols[l.next].id != c.right_id) continue;
    auto m = merges_.find(PairKey(l.id, symbols[l.next].id));
    if (m == merges_.end() || m->second.rank != c.rank) continue;
    Symbol& r = symbols[l.next];
    l.id = m->second.result;
    r.alive = false;
    l.next = r.next;
    if (r.next >= 0) symbols[r.next].prev = c.left;
    consider(l.prev);
    consider(c.left);
  }
}

std::vector<int> HfBpeTokenizer::EncodeOrdinary(absl::string_view text) const {
  std::vector<int> out;
  for (const auto& seg : added_.Split(text)) {
    if (seg.id >= 0) {
      out.push_back(seg.id);
      continue;
    }
    // The pre-tokenizer splits on " ", which the normaliser has already
    // replaced: each segment is one word.
    EncodeSegment(absl::StrReplaceAll(seg.text, {{" ", kSpaceMarker}}), out);
  }
  return out;
}

std::string HfBpeTokenizer::DecodeOrdinary(absl::Span<const int> ids) const {
  std::string out, bytes;
  const auto flush_bytes = [&] {
    AppendBytesOrReplacement(bytes, out);
    bytes.clear();
  };
  for (int id : ids) {
    const std::string& piece = pieces_[id];
    int byte;
    if (ParseByteToken(piece, &byte)) {
      bytes.push_back(static_cast<char>(byte));
      continue;
    }
    flush_bytes();
    out += absl::StrReplaceAll(piece, {{kSpaceMarker, " "}});
  }
  flush_bytes();
  return out;
}

}  // namespace gemma3n
