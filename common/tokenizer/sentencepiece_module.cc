// The loadable module behind SentencePieceModel (see sentencepiece_model.h):
// the only code that touches libsentencepiece. Built as its own shared
// object and loaded with RTLD_DEEPBIND, so libsentencepiece's bundled
// protobuf-lite and the system libprotobuf (gRPC) never see each other.
#include "common/tokenizer/sentencepiece_model.h"

#include <sentencepiece_processor.h>

namespace gemma3n {
namespace {

class Impl : public SentencePieceModel {
 public:
  sentencepiece::SentencePieceProcessor sp;
  std::vector<int> Encode(const std::string& text) const override {
    std::vector<int> ids;
    sp.Encode(text, &ids).IgnoreError();  // fails only without a loaded model
    return ids;
  }
  std::string Decode(const std::vector<int>& ids) const override {
    std::string text;
    sp.Decode(ids, &text).IgnoreError();  // callers range-check the ids
    return text;
  }
  int Size() const override { return sp.GetPieceSize(); }
  int PieceToId(const std::string& piece) const override { return sp.PieceToId(piece); }
  std::string IdToPiece(int id) const override { return sp.IdToPiece(id); }
  int UnkId() const override { return sp.unk_id(); }
};

}  // namespace
}  // namespace gemma3n

extern "C" gemma3n::SentencePieceModel* gemma3n_sentencepiece_load(const std::string& path, std::string* error) {
  auto impl = std::make_unique<gemma3n::Impl>();
  const auto status = impl->sp.Load(path);
  if (!status.ok()) {
    *error = status.ToString();
    return nullptr;
  }
  return impl.release();
}
