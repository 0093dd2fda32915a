// Text <-> token ids for Gemma 3n. Two implementations behind one interface:
// Hugging Face tokenizer.json (BPE with byte fallback; hf_bpe_tokenizer.h) and
// SentencePiece tokenizer.model (sentencepiece_tokenizer.h). Special tokens
// are split out of the raw text before the model sees the rest, and a caller
// can add more (the multimodal tokens a checkpoint's config.json names).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "common/tokenizer/special_token_splitter.h"
#include "nlohmann/json.hpp"

namespace gemma3n {

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;

  // tokenizer.json or tokenizer.model, chosen by extension.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> Load(const std::string& path);
  // A model directory's tokenizer.json, else its tokenizer.model.
  static absl::StatusOr<std::unique_ptr<Tokenizer>> LoadFromModelDir(const std::string& dir);

  // Special tokens recognised in raw text and decoded back to their text;
  // they take precedence over the file's own mapping of the same string or id.
  void AddSpecialTokens(const std::map<std::string, int>& tokens);
  // The model's vocabulary can be larger than the tokenizer's (Gemma 3n's
  // embedding has 256 multimodal ids past the text vocabulary): ids in
  // [vocab_size(), n) then decode to nothing, as Hugging Face does.
  void SetModelVocabSize(int n) { model_vocab_ = n; }

  // Ids of `text`; `<bos>` first when add_bos. Never fails: bytes the
  // vocabulary lacks go through byte fallback. Raw mode: control-token
  // strings in `text` ("<start_of_turn>", "<image_soft_token>"...) become
  // their ids.
  std::vector<int> Encode(absl::string_view text, bool add_bos) const;
  // Ids of text someone typed (a chat message): a control-token string in it
  // is tokenized as ordinary text and never becomes its id. Its first
  // character and the rest are encoded apart, so neither a tokenizer.json
  // added token nor a SentencePiece user-defined piece can match the whole
  // string again; both formats follow this one rule.
  std::vector<int> EncodeText(absl::string_view text) const;
  // Text of `ids` (special tokens kept as their text). InvalidArgument for an
  // id outside the vocabulary.
  absl::StatusOr<std::string> Decode(absl::Span<const int> ids) const;

  // The fewest tokens `text_bytes` bytes of text can become (no piece of
  // the vocabulary stands for more than the longest one does): lets a
  // request be refused as too long before its text is tokenized.
  int64_t LeastTokensOf(int64_t text_bytes) const;

  // A control token: the model's own (<start_of_turn>, <eos>, ...) or a
  // caller-added one (the multimodal markers). Streamed replies leave them
  // out of their text unless asked (StreamingDecoder).
  bool IsControlToken(int id) const { return control_ids_.count(id) > 0; }

  int vocab_size() const;
  std::optional<int> PieceToId(absl::string_view piece) const;
  std::string IdToPiece(int id) const;  // "" when out of range
  int bos_id() const { return 2; }
  int eos_id() const { return 1; }
  int pad_id() const { return 0; }

 protected:
  // The model's own encoding of text that holds no extra special token.
  virtual std::vector<int> EncodeOrdinary(absl::string_view text) const = 0;
  // Decoding of ids that are all model ids (no extra special token).
  virtual std::string DecodeOrdinary(absl::Span<const int> ids) const = 0;
  virtual int model_vocab_size() const = 0;
  virtual std::optional<int> ModelPieceToId(absl::string_view piece) const = 0;
  virtual std::string ModelIdToPiece(int id) const = 0;

 private:
  // Finds the model's own control tokens (kControlTokens) once it is loaded.
  void IndexControlTokens();

  SpecialTokenSplitter extra_;    // caller-added special tokens
  SpecialTokenSplitter control_;  // the model's control tokens and the caller-added ones
  std::map<int, std::string> extra_by_id_;
  std::set<int> control_ids_;
  int model_vocab_ = 0;
  int max_bytes_per_token_ = 1;
};

// The multimodal special tokens a Gemma 3n config.json names
// (boi/eoi/image/boa/eoa/audio_token_id), as {"<end_of_image>": id, ...}.
std::map<std::string, int> MultimodalSpecialTokens(const nlohmann::json& config);

// The tokenizer of a model directory with its config's multimodal tokens added.
absl::StatusOr<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const std::string& dir, const nlohmann::json& config);
// What LoadModelTokenizer adds to a loaded tokenizer from the model's
// config.json: its multimodal special tokens and its vocabulary size.
void ConfigureForModel(Tokenizer& tokenizer, const nlohmann::json& config);

}  // namespace gemma3n
