// Text and ids from untrusted bytes through the tiny model's tokenizer (the
// SentencePiece tokenizer.model of tests/data/gemma3n-tiny, with the
// multimodal tokens its config.json names): Encode in raw mode (control-token
// text becomes ids), EncodeText (typed chat text: it never does), Decode of
// what came out, Decode and the streaming decoder on ids read from the bytes
// (out-of-range and negative ones included). Random and invalid UTF-8 and
// special-token text come from the corpus and the mutator.
#include <memory>
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/tokenizer/streaming_decoder.h"
#include "common/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

const gemma3n::Tokenizer* tokenizer = nullptr;

// Little-endian 16-bit ids, signed, so both ends of the range are reached.
std::vector<int> IdsOf(const uint8_t* data, size_t size) {
  std::vector<int> ids;
  for (size_t i = 0; i + 1 < size; i += 2) ids.push_back(static_cast<int16_t>(data[i] | (data[i + 1] << 8)));
  return ids;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const std::string dir = GEMMA3N_TEST_DATA_DIR "/gemma3n-tiny";
  auto config = gemma3n::ReadJsonFile(dir + "/config.json");
  if (!config.ok()) gemma3n::fuzz::Violated("cannot read the tiny config.json");
  auto loaded = gemma3n::LoadModelTokenizer(dir, *config);
  if (!loaded.ok()) gemma3n::fuzz::Violated("cannot load the tiny tokenizer");
  tokenizer = loaded->release();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  const absl::string_view text(reinterpret_cast<const char*>(data), size);
  for (const std::vector<int>& ids : {tokenizer->Encode(text, /*add_bos=*/true), tokenizer->EncodeText(text)}) {
    if (!tokenizer->Decode(ids).ok()) fuzz::Violated("the tokenizer cannot decode its own encoding");
  }
  const std::vector<int> ids = IdsOf(data, size);
  (void)tokenizer->Decode(ids);
  StreamingDecoder stream(*tokenizer);
  for (int id : ids) {
    if (!stream.Push(id).ok()) break;  // an id outside the vocabulary ends the stream, as in the gateway
  }
  (void)stream.Flush();
  return 0;
}
