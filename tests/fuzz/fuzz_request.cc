// Arbitrary bytes as a gemma3n.v1.GenerateRequest (ParseFromArray, as gRPC
// parses what a client sends; bytes that do not parse are skipped) through
// the gateway's checks in Generate's order: ValidateGeneration of the
// settings, ValidateStopStrings, CollectMedia (ValidateMessages inside),
// CheckFitsContext, BuildPrompt, CheckPromptLength; then the stop
// strings filter the prompt's own decoded text, as they filter generated text.
//
// The gateway is the real E2B one: its config.json (tests/data/real-configs)
// and the real tokenizer.json. Not the tiny model's tokenizer.model: the
// SentencePiece module must be loaded with RTLD_DEEPBIND next to gRPC's
// libprotobuf, and AddressSanitizer refuses RTLD_DEEPBIND (see README.md).
//
// No encoder runs (the gateway does not link them): each media part gets the
// encoding an encoder would return, of the right shape: an image one span of
// vision_soft_tokens_per_image rows, audio 1-3 spans (by the data's length) of
// audio_soft_tokens_per_image rows. The media decoders have their own targets
// (fuzz_image, fuzz_audio). With well-shaped encodings BuildPrompt must never
// fail with an internal error.
#include <memory>
#include <string>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/request/generation_params.h"
#include "common/request/generation_proto.h"
#include "common/tokenizer/tokenizer.h"
#include "gateway/prompt_builder.h"
#include "gateway/stop_strings.h"
#include "gemma3n/v1/gemma.pb.h"
#include "google/protobuf/stubs/logging.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

const gemma3n::ModelConfig* config = nullptr;
const gemma3n::Tokenizer* tokenizer = nullptr;

std::vector<gemma3n::EncodedMedia> FakeEncodings(const std::vector<gemma3n::MediaPart>& parts) {
  std::vector<gemma3n::EncodedMedia> out;
  for (const gemma3n::MediaPart& p : parts) {
    gemma3n::EncodedMedia e;
    e.kind = p.kind;
    const bool image = p.kind == gemma3n::EncodedMedia::Kind::kImage;
    const int spans = image ? 1 : 1 + static_cast<int>(p.media->data().size() % 3);
    for (int s = 0; s < spans; ++s) {
      gemma3n::internal::v1::SoftTokens t;
      t.set_rows(image ? config->vision_soft_tokens_per_image : config->audio_soft_tokens_per_image);
      t.set_width(1);
      e.spans.push_back(std::move(t));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  // Not a line per input with invalid UTF-8 in a string field (the parse fails; that is the test).
  google::protobuf::SetLogHandler(nullptr);
  auto json = gemma3n::ReadJsonFile(GEMMA3N_TEST_DATA_DIR "/real-configs/gemma-3n-E2B.config.json");
  if (!json.ok()) gemma3n::fuzz::Violated("cannot read the E2B config.json");
  auto parsed = gemma3n::ParseModelConfig(*json);
  if (!parsed.ok()) gemma3n::fuzz::Violated("the E2B config.json does not parse");
  config = new gemma3n::ModelConfig(*parsed);
  auto loaded = gemma3n::Tokenizer::Load(GEMMA3N_REAL_TOKENIZER);
  if (!loaded.ok()) gemma3n::fuzz::Violated("cannot load the real tokenizer.json (run scripts/fetch_tokenizer.sh)");
  gemma3n::ConfigureForModel(**loaded, *json);
  tokenizer = loaded->release();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace gemma3n;
  v1::GenerateRequest request;
  if (!request.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (!ValidateGeneration(SettingsFromPublic(request.config()), kDefaultMaxNewTokens).ok()) return 0;
  if (!ValidateStopStrings(request.config().stop()).ok()) return 0;
  const auto parts = CollectMedia(request.messages());
  if (!parts.ok()) return 0;
  const int64_t context = std::min<int64_t>(config->text.max_position_embeddings, kGemma3nContextTokens);
  if (!CheckFitsContext(request.messages(), request.prompt(), *parts, *tokenizer, *config, context).ok()) return 0;
  const auto prompt = BuildPrompt(request.messages(), request.prompt(), FakeEncodings(*parts), *tokenizer, *config);
  if (!prompt.ok()) {
    if (prompt.status().code() == absl::StatusCode::kInternal) fuzz::Violated("BuildPrompt: internal error");
    return 0;
  }
  if (!CheckPromptLength(static_cast<int64_t>(prompt->ids.size()), context).ok()) return 0;
  const auto text = tokenizer->Decode(prompt->ids);
  if (!text.ok()) fuzz::Violated("the prompt's ids do not decode");
  StopStringFilter stops({request.config().stop().begin(), request.config().stop().end()});
  for (size_t i = 0; i < text->size() && !stops.stopped(); i += 7) (void)stops.Push(text->substr(i, 7));
  (void)stops.Flush();
  return 0;
}
