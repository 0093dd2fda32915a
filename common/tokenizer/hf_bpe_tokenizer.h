// Hugging Face tokenizer.json as Gemma ships it: added tokens matched in the
// raw text first; the rest normalised (" " -> "▁"), then byte-pair encoded
// with byte fallback (characters outside the vocabulary become <0xXX> byte
// tokens). Decoding: "▁" -> " ", byte tokens -> bytes, fused.
// The file is parsed with simdjson: the real one is 33 MB with 262,144
// pieces and 514,906 merges, and loads in a fraction of a second.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/tokenizer/special_token_splitter.h"
#include "common/tokenizer/tokenizer.h"

namespace simdjson::dom {
class element;
}  // namespace simdjson::dom

namespace gemma3n {

class HfBpeTokenizer : public Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<HfBpeTokenizer>> Load(const std::string& path);

 protected:
  std::vector<int> EncodeOrdinary(absl::string_view text) const override;
  std::string DecodeOrdinary(absl::Span<const int> ids) const override;
  int model_vocab_size() const override { return static_cast<int>(pieces_.size()); }
  std::optional<int> ModelPieceToId(absl::string_view piece) const override;
  std::string ModelIdToPiece(int id) const override { return pieces_[id]; }

 private:
  struct Merge {
    int rank;
    int result;
  };
  // Load's steps, in order. pieces_ (and added_, is_added_) from model.vocab
  // and added_tokens; then vocab_ over the final pieces_ and the byte-fallback
  // ids; then merges_ from model.merges ("a b" or ["a", "b"], by rank).
  absl::Status ReadPieces(const std::string& path, const simdjson::dom::element& root);
  absl::Status IndexPieces(const std::string& path);
  absl::Status ReadMerges(const std::string& path, const simdjson::dom::element& root);
  static uint64_t PairKey(int a, int b) { return (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b); }
  // One symbol of a word being merged; the live ones form a doubly linked
  // list (prev / next index into the word's symbols, -1 at the ends).
  struct Symbol {
    int id;
    int prev, next;
    bool alive;
  };
  // BPE of one normalised segment (no added tokens inside).
  void EncodeSegment(const std::string& normalized, std::vector<int>& out) const;
  // The word's characters as pieces (the bytes of one outside the vocabulary
  // as byte tokens), linked in order.
  std::vector<Symbol> InitialSymbols(const std::string& word) const;
  // Applies merges, lowest rank first and the leftmost pair on ties, until
  // no adjacent pair has one.
  void MergePairs(std::vector<Symbol>& symbols) const;

  std::vector<std::string> pieces_;                  // id -> piece
  absl::flat_hash_map<absl::string_view, int> vocab_;  // piece -> id, keys view pieces_
  absl::flat_hash_map<uint64_t, Merge> merges_;      // (left id, right id) -> merge
  int byte_ids_[256];                                // <0xXX> pieces
  SpecialTokenSplitter added_;                       // the file's added tokens
  std::vector<bool> is_added_;                       // id -> is an added token
  int unk_id_ = -1;
};

}  // namespace gemma3n
