#include "tests/fuzz/gateway_checks.h"

#include <algorithm>
#include <vector>

#include "common/checkpoint/checkpoint.h"
#include "common/config/model_config.h"
#include "common/request/generation_params.h"
#include "common/request/generation_proto.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/tokenizer.h"
#include "gateway/prompt_builder.h"
#include "gateway/stop_strings.h"
#include "tests/fuzz/fuzz_target.h"

namespace gemma3n::fuzz {
namespace {

const ModelConfig* config = nullptr;
const Tokenizer* tokenizer = nullptr;

std::vector<EncodedMedia> FakeEncodings(const std::vector<MediaPart>& parts) {
  std::vector<EncodedMedia> out;
  for (const MediaPart& p : parts) {
    EncodedMedia e;
    e.kind = p.kind;
    const bool image = p.kind == EncodedMedia::Kind::kImage;
    const int spans = image ? 1 : 1 + static_cast<int>(p.media->data().size() % 3);
    for (int s = 0; s < spans; ++s) {
      internal::v1::SoftTokens t;
      t.set_rows(image ? config->vision_soft_tokens_per_image : config->audio_soft_tokens_per_image);
      t.set_width(1);
      e.spans.push_back(std::move(t));
    }
    out.push_back(std::move(e));
  }
  return out;
}

}  // namespace

void LoadGateway() {
  auto json = ReadJsonFile(GEMMA3N_TEST_DATA_DIR "/real-configs/gemma-3n-E2B.config.json");
  if (!json.ok()) Violated("cannot read the E2B config.json");
  auto parsed = ParseModelConfig(*json);
  if (!parsed.ok()) Violated("the E2B config.json does not parse");
  config = new ModelConfig(*parsed);
  auto loaded = Tokenizer::Load(GEMMA3N_REAL_TOKENIZER);
  if (!loaded.ok()) Violated("cannot load the real tokenizer.json (run scripts/fetch_tokenizer.sh)");
  ConfigureForModel(**loaded, *json);
  tokenizer = loaded->release();
}

absl::Status CheckAsGateway(const v1::GenerateRequest& request) {
  RETURN_IF_ERROR(ValidateGeneration(SettingsFromPublic(request.config()), kDefaultMaxNewTokens).status());
  RETURN_IF_ERROR(ValidateStopStrings(request.config().stop()));
  ASSIGN_OR_RETURN(const std::vector<MediaPart> parts, CollectMedia(request.messages()));
  const int64_t context = std::min<int64_t>(config->text.max_position_embeddings, kGemma3nContextTokens);
  RETURN_IF_ERROR(CheckFitsContext(request.messages(), request.prompt(), parts, *tokenizer, *config, context));
  const auto prompt = BuildPrompt(request.messages(), request.prompt(), FakeEncodings(parts), *tokenizer, *config);
  if (!prompt.ok() && prompt.status().code() == absl::StatusCode::kInternal) Violated("BuildPrompt: internal error");
  RETURN_IF_ERROR(prompt.status());
  RETURN_IF_ERROR(CheckPromptLength(static_cast<int64_t>(prompt->ids.size()), context));
  const auto text = tokenizer->Decode(prompt->ids);
  if (!text.ok()) Violated("the prompt's ids do not decode");
  StopStringFilter stops({request.config().stop().begin(), request.config().stop().end()});
  for (size_t i = 0; i < text->size() && !stops.stopped(); i += 7) (void)stops.Push(text->substr(i, 7));
  (void)stops.Flush();
  return absl::OkStatus();
}

}  // namespace gemma3n::fuzz
