// gemma3n-inspect generate: greedy or sampled continuation of a prompt.
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/cli/args.h"
#include "common/kernels/thread_pool.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/chat_template.h"
#include "common/tokenizer/tokenizer.h"
#include "text_worker/generation/generator.h"
#include "text_worker/inspect/commands.h"
#include "text_worker/inspect/media_flags.h"
#include "text_worker/inspect/profile_flags.h"
#include "text_worker/model/soft_tokens.h"
#include "text_worker/model/text_model.h"

namespace gemma3n::inspect {
namespace {

absl::StatusOr<SamplingParams> SamplingFromArgs(const Args& args) {
  SamplingParams p;
  ASSIGN_OR_RETURN(double temperature, args.Double("temperature", 0.0));
  ASSIGN_OR_RETURN(int64_t top_k, args.Int("top-k", 0));
  ASSIGN_OR_RETURN(double top_p, args.Double("top-p", 1.0));
  ASSIGN_OR_RETURN(double min_p, args.Double("min-p", 0.0));
  ASSIGN_OR_RETURN(double penalty, args.Double("repetition-penalty", 1.0));
  ASSIGN_OR_RETURN(int64_t seed, args.Int("seed", 0));
  // A sampling flag without a temperature samples at temperature 1.
  const bool sampling = args.Has("top-k") || args.Has("top-p") || args.Has("min-p") || args.Has("seed");
  p.temperature = static_cast<float>(args.Has("temperature") ? temperature : (sampling ? 1.0 : 0.0));
  p.top_k = static_cast<int>(top_k);
  p.top_p = static_cast<float>(top_p);
  p.min_p = static_cast<float>(min_p);
  p.repetition_penalty = static_cast<float>(penalty);
  p.seed = static_cast<uint64_t>(seed);
  RETURN_IF_ERROR(ValidateSamplingParams(p));
  return p;
}

}  // namespace

absl::Status RunGenerate(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          {"model", "ids", "prompt", "max-new", "temperature", "top-k", "top-p",
                                           "min-p", "repetition-penalty", "seed", "threads", "profile", "profiles", "audio", "image", "image-size"},
                                          {"raw", "no-stop"}));
  ASSIGN_OR_RETURN(std::string model_dir, args.Required("model"));
  if (args.Has("ids") == args.Has("prompt")) {
    return absl::InvalidArgumentError("give exactly one of --ids and --prompt");
  }
  ASSIGN_OR_RETURN(int64_t max_new, args.Int("max-new", 32));
  if (max_new < 0) return absl::InvalidArgumentError("--max-new must be >= 0");
  ASSIGN_OR_RETURN(int64_t threads, args.Int("threads", 0));
  if (threads > 0) ThreadPool::SetDefaultThreads(static_cast<int>(threads));
  GenerateOptions options;
  ASSIGN_OR_RETURN(options.sampling, SamplingFromArgs(args));
  options.max_new_tokens = static_cast<int>(max_new);

  ASSIGN_OR_RETURN(auto model, TextModel::Load(model_dir));
  ASSIGN_OR_RETURN(std::optional<ElasticPlan> plan, PlanFromArgs(args, *model));
  options.plan = plan ? &*plan : nullptr;
  ASSIGN_OR_RETURN(std::unique_ptr<Tokenizer> tokenizer, LoadModelTokenizer(model_dir, model->config().raw));
  if (!args.Has("no-stop")) options.stop_ids = model->config().eos_token_ids;

  ASSIGN_OR_RETURN(std::optional<AudioSpans> audio, AudioFromArgs(args, model_dir, model->config()));
  ASSIGN_OR_RETURN(ImageRows images, ImagesFromArgs(args, model_dir, model->config()));
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
