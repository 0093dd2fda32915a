// Text and ids from untrusted bytes through both tokenizer formats: the tiny
// model's SentencePiece tokenizer.model (tests/data/gemma3n-tiny) and the real
// Gemma tokenizer.json (our own BPE code; scripts/fetch_tokenizer.sh puts it
// in the cache), each with the multimodal tokens its config.json names.
// Per input: Encode in raw mode (control-token text becomes ids), EncodeText
// (typed chat text: it never does), Decode of what came out, Decode and the
// streaming decoder on ids read from the bytes (out-of-range and negative
// ones included). Random and invalid UTF-8 and special-token text come from
// the corpus and the mutator.
#include <memory>
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/tokenizer/streaming_decoder.h"
#include "common/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

// Owned, so they are freed at exit (LeakSanitizer checks after the globals go).
std::vector<std::unique_ptr<gemma3n::Tokenizer>> tokenizers;

// Little-endian 16-bit ids, signed, so both ends of the range are reached.
std::vector<int> IdsOf(const uint8_t* data, size_t size) {
  std::vector<int> ids;
  for (size_t i = 0; i + 1 < size; i += 2) ids.push_back(static_cast<int16_t>(data[i] | (data[i + 1] << 8)));
  return ids;
}

void Check(const gemma3n::Tokenizer& tokenizer, const uint8_t* data, size_t size) {
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::vector<int>& ids : {tokenizer.Encode(text, /*add_bos=*/true), tokenizer.EncodeText(text)}) {
    if (!tokenizer.Decode(ids).ok()) gemma3n::fuzz::Violated("the tokenizer cannot decode its own encoding");
  }
  const std::vector<int> ids = IdsOf(data, size);
  (void)tokenizer.Decode(ids);
  gemma3n::StreamingDecoder stream(tokenizer);
  for (int id : ids) {
    if (!stream.Push(id).ok()) break;  // an id outside the vocabulary ends the stream, as in the gateway
  }
  (void)stream.Flush();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string tiny = GEMMA3N_TEST_DATA_DIR "/gemma3n-tiny";
  auto tiny_config = gemma3n::ReadJsonFile(tiny + "/config.json");
  if (!tiny_config.ok()) gemma3n::fuzz::Violated("cannot read the tiny config.json");
  auto sentencepiece = gemma3n::LoadModelTokenizer(tiny, *tiny_config);
  if (!sentencepiece.ok()) gemma3n::fuzz::Violated("cannot load the tiny tokenizer.model");
  tokenizers.push_back(std::move(*sentencepiece));

  auto real_config = gemma3n::ReadJsonFile(GEMMA3N_TEST_DATA_DIR "/real-configs/gemma-3n-E2B.config.json");
  if (!real_config.ok()) gemma3n::fuzz::Violated("cannot read the E2B config.json");
  auto bpe = gemma3n::Tokenizer::Load(GEMMA3N_REAL_TOKENIZER);
  if (!bpe.ok()) gemma3n::fuzz::Violated("cannot load the real tokenizer.json (run scripts/fetch_tokenizer.sh)");
  gemma3n::ConfigureForModel(**bpe, *real_config);
  tokenizers.push_back(std::move(*bpe));
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  for (const auto& t : tokenizers) Check(*t, data, size);
  return 0;
}
