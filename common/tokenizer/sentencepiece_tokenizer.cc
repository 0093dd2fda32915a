#include "common/tokenizer/sentencepiece_tokenizer.h"

#include "absl/strings/str_cat.h"

namespace gemma3n {

SentencePieceTokenizer::~SentencePieceTokenizer() = default;

absl::StatusOr<std::unique_ptr<SentencePieceTokenizer>> SentencePieceTokenizer::Load(const std::string& path) {
  auto t = std::unique_ptr<SentencePieceTokenizer>(new SentencePieceTokenizer());
  std::string error;
  t->sp_ = SentencePieceModel::Load(path, &error);
  if (!t->sp_) {
    return absl::InvalidArgumentError(absl::StrCat("tokenizer file ", path, " is not a SentencePiece model: ", error));
  }
  return t;
}

std::vector<int> SentencePieceTokenizer::EncodeOrdinary(absl::string_view text) const {
  return sp_->Encode(std::string(text));
}

std::string SentencePieceTokenizer::DecodeOrdinary(absl::Span<const int> ids) const {
  return sp_->Decode(std::vector<int>(ids.begin(), ids.end()));
}

int SentencePieceTokenizer::model_vocab_size() const { return sp_->Size(); }

std::optional<int> SentencePieceTokenizer::ModelPieceToId(absl::string_view piece) const {
  const std::string p(piece);
  const int id = sp_->PieceToId(p);
  if (id == sp_->UnkId() && sp_->IdToPiece(id) != p) return std::nullopt;
  return id;
}

std::string SentencePieceTokenizer::ModelIdToPiece(int id) const { return sp_->IdToPiece(id); }

}  // namespace gemma3n
