// Splits raw text at special tokens (added tokens such as <start_of_turn>),
// leftmost-longest match, as Hugging Face tokenizers do before normalisation:
// "a<start_of_turn>b" -> "a", <105>, "b".
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

namespace gemma3n {

class SpecialTokenSplitter {
 public:
  struct Segment {
    absl::string_view text;  // ordinary text (when id < 0)
    int id = -1;             // a special token's id
  };

  // Adds or replaces a token (same text -> new id).
  void Add(const std::string& text, int id);
  bool empty() const { return nodes_.size() <= 1; }
  std::vector<Segment> Split(absl::string_view text) const;

 private:
  struct Node {
    std::map<uint8_t, int> next;
    int id = -1;
  };
  std::vector<Node> nodes_ = std::vector<Node>(1);  // byte trie, node 0 = root
};

}  // namespace gemma3n
