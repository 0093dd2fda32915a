// SentencePiece tokenizer.model through Debian's libsentencepiece, for
// checkpoints that ship no tokenizer.json (the tiny test models do).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/tokenizer/sentencepiece_model.h"
#include "common/tokenizer/tokenizer.h"

namespace gemma3n {

class SentencePieceTokenizer : public Tokenizer {
 public:
  static absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> Load(const std::string& path);
  ~SentencePieceTokenizer() override;

 protected:
  std::vector<int> EncodeOrdinary(absl::string_view text) const override;
  std::string DecodeOrdinary(absl::Span<const int> ids) const override;
  int model_vocab_size() const override;
  std::optional<int> ModelPieceToId(absl::string_view piece) const override;
  std::string ModelIdToPiece(int id) const override;

 private:
  SentencePieceTokenizer() = default;
  std::unique_ptr<SentencePieceModel> sp_;
};

}  // namespace gemma3n
