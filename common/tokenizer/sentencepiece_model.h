// A plain C++ face of libsentencepiece's processor. Debian's
// sentencepiece_processor.h declares its own absl::string_view, which clashes
// with Abseil's, so it is included only in sentencepiece_model.cc, which
// includes no Abseil header.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace gemma3n {

class SentencePieceModel {
 public:
  // nullptr with *error set when the file is not a SentencePiece model.
  static std::unique_ptr<SentencePieceModel> Load(const std::string& path, std::string* error);
  virtual ~SentencePieceModel() = default;
  virtual std::vector<int> Encode(const std::string& text) const = 0;
  virtual std::string Decode(const std::vector<int>& ids) const = 0;
  virtual int Size() const = 0;
  virtual int PieceToId(const std::string& piece) const = 0;  // unk id when absent
  virtual std::string IdToPiece(int id) const = 0;
  virtual int UnkId() const = 0;
};

}  // namespace gemma3n
