// gemma3n-inspect generate: greedy or sampled continuation of a prompt.
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cli/args.h"
#include "common/hub/model_flag.h"
#include "common/request/generation_flags.h"
#include "common/kernels/thread_pool.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/chat_template.h"
#include "common/tokenizer/tokenizer.h"
#include "text_worker/generation/generator.h"
#include "tools/inspect/commands.h"
#include "tools/inspect/media_flags.h"
#include "tools/inspect/profile_flags.h"
#include "text_worker/model/soft_tokens.h"
#include "text_worker/model/text_model.h"

namespace gemma3n::inspect {

absl::Status RunGenerate(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          WithGenerationFlags({"model", "ids", "prompt", "threads", "profile",
                                                               "profiles", "audio", "image", "image-size"}),
                                          {"raw", "no-stop"}));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  if (args.Has("ids") == args.Has("prompt")) {
    return absl::InvalidArgumentError("give exactly one of --ids and --prompt");
  }
  ASSIGN_OR_RETURN(GenerationSettings settings, GenerationSettingsFromArgs(args));
  ASSIGN_OR_RETURN(GenerationParams params, ValidateGeneration(settings, /*default_max_new_tokens=*/32));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  GenerateOptions options;
  options.sampling = params.sampling;
  options.max_new_tokens = params.max_new_tokens;

  TextModel::Options model_options;
  model_options.threads = threads;
  ASSIGN_OR_RETURN(auto model, TextModel::Load(model_dir, model_options));
  ASSIGN_OR_RETURN(std::optional<ElasticPlan> plan, PlanFromArgs(args, *model));
  options.plan = plan ? &*plan : nullptr;
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, LoadModelTokenizer(model_dir, model->config().raw));
  if (!args.Has("no-stop")) options.stop_ids = model->config().eos_token_ids;

  ASSIGN_OR_RETURN(std::optional<AudioSpans> audio, AudioFromArgs(args, model_dir, model->config(), &model->pool()));
  ASSIGN_OR_RETURN(ImageRows images, ImagesFromArgs(args, model_dir, model->config(), &model->pool()));
  std::vector<int> prompt;
  if (args.Has("ids")) {
    ASSIGN_OR_RETURN(prompt, ParseIdList(*args.Get("ids")));
  } else if (args.Has("raw")) {
    prompt = tokenizer->Encode(*args.Get("prompt"), /*add_bos=*/true);
  } else {
    ChatMessage user;
    user.role = "user";
    for (int i = 0; i < images.images; ++i) user.parts.push_back(ChatPart::Image());
    for (int i = 0; audio && i < audio->spans; ++i) user.parts.push_back(ChatPart::Audio());
    user.parts.push_back(ChatPart::Text(*args.Get("prompt")));
    ASSIGN_OR_RETURN(prompt, EncodeChat(*tokenizer, {user}, ChatTemplateOptions::ForModel(model->config())));
  }

  ASSIGN_OR_RETURN(SoftTokenRows soft, MediaSoftRows(prompt, model->config(), images, audio));
  ASSIGN_OR_RETURN(GenerateResult result,
                   Generate(*model, prompt, soft.positions.empty() ? nullptr : &soft, options));
  ASSIGN_OR_RETURN(std::string text, tokenizer->Decode(result.tokens));
  std::printf("%s\n%s\n", absl::StrJoin(result.tokens, ",").c_str(), text.c_str());
  const double tps = result.tokens.size() > 1 && result.decode_seconds > 0
                         ? (result.tokens.size() - 1) / result.decode_seconds
                         : 0.0;
  std::fprintf(stderr, "prompt %d tokens, prefill %.1f ms, generated %zu tokens, decode %.1f tokens/s\n",
               result.prompt_tokens, result.prefill_seconds * 1e3, result.tokens.size(), tps);
  return absl::OkStatus();
}

}  // namespace gemma3n::inspect
