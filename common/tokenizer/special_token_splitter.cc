#include "common/tokenizer/special_token_splitter.h"

namespace gemma3n {

void SpecialTokenSplitter::Add(const std::string& text, int id) {
  if (text.empty()) return;
  int node = 0;
  for (unsigned char c : text) {
    auto it = nodes_[node].next.find(c);
    if (it == nodes_[node].next.end()) {
      nodes_.emplace_back();
      const int child = static_cast<int>(nodes_.size()) - 1;
      nodes_[node].next[c] = child;
      node = child;
    } else {
      node = it->second;
    }
  }
  nodes_[node].id = id;
}

std::vector<SpecialTokenSplitter::Segment> SpecialTokenSplitter::Split(absl::string_view text) const {
  std::vector<Segment> out;
  size_t plain_start = 0, pos = 0;
  while (pos < text.size()) {
    // Longest special token starting at pos.
    int node = 0, best_id = -1;
    size_t best_len = 0;
    for (size_t i = pos; i < text.size(); ++i) {
      auto it = nodes_[node].next.find(static_cast<uint8_t>(text[i]));
      if (it == nodes_[node].next.end()) break;
      node = it->second;
      if (nodes_[node].id >= 0) {
        best_id = nodes_[node].id;
        best_len = i - pos + 1;
      }
    }
    if (best_id < 0) {
      ++pos;
      continue;
    }
    if (pos > plain_start) out.push_back({text.substr(plain_start, pos - plain_start), -1});
    out.push_back({text.substr(pos, best_len), best_id});
    pos += best_len;
    plain_start = pos;
  }
  if (plain_start < text.size()) out.push_back({text.substr(plain_start), -1});
  return out;
}

}  // namespace gemma3n
