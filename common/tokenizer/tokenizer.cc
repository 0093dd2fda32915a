#include "common/tokenizer/tokenizer.h"

#include <sys/stat.h>

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/config/json_fields.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/hf_bpe_tokenizer.h"
#include "common/tokenizer/sentencepiece_tokenizer.h"
#include "common/tokenizer/utf8.h"

namespace gemma3n {
namespace {

// Gemma's control tokens: what the chat template and the media expansion
// write, and what only raw mode may produce from text. (Gemma's tokenizer.json
// marks exactly these "special"; its other added tokens, whitespace runs and
// <unusedN>, stay ordinary text as Hugging Face keeps them.)
constexpr const char* kControlTokens[] = {
    "<pad>", "<eos>", "<bos>", "<unk>", "<start_of_turn>", "<end_of_turn>", "<start_of_image>", "<end_of_image>",
    "<image_soft_token>", "<start_of_audio>", "<end_of_audio>", "<audio_soft_token>"};

bool IsFile(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::Load(const std::string& path) {
  if (!IsFile(path)) return absl::NotFoundError(absl::StrCat("tokenizer file ", path, " does not exist"));
  std::unique_ptr<Tokenizer> tokenizer;
  if (absl::EndsWith(path, ".json")) {
    ASSIGN_OR_RETURN(tokenizer, HfBpeTokenizer::Load(path));
  } else if (absl::EndsWith(path, ".model")) {
    ASSIGN_OR_RETURN(tokenizer, SentencePieceTokenizer::Load(path));
  }
  if (tokenizer) {
    tokenizer->IndexControlTokens();
    return tokenizer;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("don't know the tokenizer format of ", path, " (expected tokenizer.json or tokenizer.model)"));
}

absl::StatusOr<std::unique_ptr<Tokenizer>> Tokenizer::LoadFromModelDir(const std::string& dir) {
  if (IsFile(dir + "/tokenizer.json")) return Load(dir + "/tokenizer.json");
  if (IsFile(dir + "/tokenizer.model")) return Load(dir + "/tokenizer.model");
  return absl::NotFoundError(absl::StrCat("no tokenizer.json or tokenizer.model in ", dir));
}

void Tokenizer::IndexControlTokens() {
  for (const char* text : kControlTokens) {
    if (std::optional<int> id = ModelPieceToId(text)) {
      control_.Add(text, *id);
      control_ids_.insert(*id);
    }
  }
  // The most text bytes one piece stands for: its bytes, with the
  // whitespace marker U+2581 (3 bytes) standing for one space. Byte-fallback
  // pieces ("<0x41>") are counted by their spelling, more than the one byte
  // they cover, which only makes the bound looser (still a bound).
  static const std::string kSpaceMarker = "\xE2\x96\x81";
  for (int id = 0; id < model_vocab_size(); ++id) {
    const std::string piece = ModelIdToPiece(id);
    int bytes = static_cast<int>(piece.size());
    for (size_t at = piece.find(kSpaceMarker); at != std::string::npos; at = piece.find(kSpaceMarker, at + 3)) {
      bytes -= 2;
    }
    max_bytes_per_token_ = std::max(max_bytes_per_token_, bytes);
  }
}

int64_t Tokenizer::LeastTokensOf(int64_t text_bytes) const {
  return (text_bytes + max_bytes_per_token_ - 1) / max_bytes_per_token_;
}

void Tokenizer::AddSpecialTokens(const std::map<std::string, int>& tokens) {
  for (const auto& [text, id] : tokens) {
    if (id < 0) continue;
    extra_.Add(text, id);
    control_.Add(text, id);
    control_ids_.insert(id);
    extra_by_id_[id] = text;
  }
}

std::vector<int> Tokenizer::Encode(absl::string_view text, bool add_bos) const {
  std::vector<int> ids;
  if (add_bos) ids.push_back(bos_id());
  for (const auto& seg : extra_.Split(text)) {
    if (seg.id >= 0) {
      ids.push_back(seg.id);
    } else {
      std::vector<int> part = EncodeOrdinary(seg.text);
      ids.insert(ids.end(), part.begin(), part.end());
    }
  }
  return ids;
}

std::vector<int> Tokenizer::EncodeText(absl::string_view text) const {
  std::vector<int> ids;
  const auto append = [&ids](const std::vector<int>& part) { ids.insert(ids.end(), part.begin(), part.end()); };
  for (const auto& seg : control_.Split(text)) {
    if (seg.id < 0) {
      append(EncodeOrdinary(seg.text));  // holds no control token, nor any caller-added one
      continue;
    }
    const size_t first = Utf8CharLength(seg.text, 0);
    append(EncodeOrdinary(seg.text.substr(0, first)));
    append(EncodeText(seg.text.substr(first)));
  }
  return ids;
}

absl::StatusOr<std::string> Tokenizer::Decode(absl::Span<const int> ids) const {
  std::string out;
  size_t run_start = 0;
  const auto flush = [&](size_t end) {
    if (end > run_start) out += DecodeOrdinary(ids.subspan(run_start, end - run_start));
  };
  for (size_t i = 0; i < ids.size(); ++i) {
    auto extra = extra_by_id_.find(ids[i]);
    if (extra != extra_by_id_.end()) {
      flush(i);
      out += extra->second;
      run_start = i + 1;
    } else if (ids[i] < 0 || ids[i] >= model_vocab_size()) {
      if (ids[i] >= 0 && ids[i] < model_vocab_) {  // a model id without text
        flush(i);
        run_start = i + 1;
        continue;
      }
      return absl::InvalidArgumentError(
          absl::StrCat("token id ", ids[i], " is outside the tokenizer's vocabulary [0, ", vocab_size(), ")"));
    }
  }
  flush(ids.size());
  return out;
}

int Tokenizer::vocab_size() const {
  int n = model_vocab_size();
  if (!extra_by_id_.empty()) n = std::max(n, extra_by_id_.rbegin()->first + 1);
  n = std::max(n, model_vocab_);
  return n;
}

std::optional<int> Tokenizer::PieceToId(absl::string_view piece) const {
  for (const auto& [id, text] : extra_by_id_) {
    if (text == piece) return id;
  }
  return ModelPieceToId(piece);
}

std::string Tokenizer::IdToPiece(int id) const {
  auto extra = extra_by_id_.find(id);
  if (extra != extra_by_id_.end()) return extra->second;
  if (id < 0 || id >= model_vocab_size()) return "";
  return ModelIdToPiece(id);
}

std::map<std::string, int> MultimodalSpecialTokens(const nlohmann::json& config) {
  std::map<std::string, int> out;
  const std::pair<const char*, const char*> names[] = {
      {"boi_token_id", "<start_of_image>"}, {"eoi_token_id", "<end_of_image>"},
      {"image_token_id", "<image_soft_token>"}, {"boa_token_id", "<start_of_audio>"},
      {"eoa_token_id", "<end_of_audio>"}, {"audio_token_id", "<audio_soft_token>"}};
  if (!config.is_object()) return out;
  for (const auto& [key, text] : names) {
    auto it = config.find(key);
    if (it != config.end() && it->is_number_integer()) out[text] = it->get<int>();
  }
  return out;
}

absl::StatusOr<std::unique_ptr<Tokenizer>> LoadModelTokenizer(const std::string& dir, const nlohmann::json& config) {
  ASSIGN_OR_RETURN(auto tokenizer, Tokenizer::LoadFromModelDir(dir));
  ConfigureForModel(*tokenizer, config);
  return tokenizer;
}

void ConfigureForModel(Tokenizer& tokenizer, const nlohmann::json& config) {
  tokenizer.AddSpecialTokens(MultimodalSpecialTokens(config));
  if (const nlohmann::json* text = ObjectField(config, "text_config")) {
    tokenizer.SetModelVocabSize(FieldOr<int>(*text, "vocab_size", 0));
  }
}

}  // namespace gemma3n
