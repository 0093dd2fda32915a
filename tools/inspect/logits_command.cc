// gemma3n-inspect logits: the logits of every position of an id sequence.
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/hub/model_flag.h"
#include "common/io/npy.h"
#include "common/kernels/thread_pool.h"
#include "common/status/status_macros.h"
#include "tools/inspect/commands.h"
#include "tools/inspect/media_flags.h"
#include "tools/inspect/profile_flags.h"
#include "text_worker/model/soft_tokens.h"
#include "text_worker/model/text_model.h"

namespace gemma3n::inspect {

absl::Status RunLogits(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "ids", "out", "threads", "profile", "profiles", "audio", "image", "image-size"}, {"decode"}));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(std::string id_text, args.Required("ids"));
  ASSIGN_OR_RETURN(std::string out_path, args.Required("out"));
  ASSIGN_OR_RETURN(std::vector<int> ids, ParseIdList(id_text));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));

  TextModel::Options model_options;
  model_options.threads = threads;
  ASSIGN_OR_RETURN(auto model, TextModel::Load(model_dir, model_options));
  const int64_t vocab = model->text_config().vocab_size;
  ASSIGN_OR_RETURN(std::optional<ElasticPlan> plan, PlanFromArgs(args, *model));
  ForwardOptions options;
  options.plan = plan ? &*plan : nullptr;
  ASSIGN_OR_RETURN(std::optional<AudioSpans> audio, AudioFromArgs(args, model_dir, model->config(), &model->pool()));
  ASSIGN_OR_RETURN(ImageRows images, ImagesFromArgs(args, model_dir, model->config(), &model->pool()));
  ASSIGN_OR_RETURN(SoftTokenRows soft, MediaSoftRows(ids, model->config(), images, audio));
  auto cache = model->NewCache(ids.size(), options.plan);
  std::vector<float> logits;
  if (args.Has("decode")) {
    options.logits = LogitsFor::kLast;
    size_t next_soft = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      SoftTokenRows one;  // this token's soft row, if it is a placeholder
      if (next_soft < soft.positions.size() && soft.positions[next_soft] == static_cast<int64_t>(i)) {
        const int64_t h = model->text_config().hidden_size;
        one.positions = {0};
        one.rows.assign(soft.rows.begin() + next_soft * h, soft.rows.begin() + (next_soft + 1) * h);
        ++next_soft;
      }
      ASSIGN_OR_RETURN(ForwardResult r, model->Forward(*cache, {ids[i]}, one.positions.empty() ? nullptr : &one, options));
      logits.insert(logits.end(), r.logits.begin(), r.logits.end());
    }
  } else {
    options.logits = LogitsFor::kAll;
    ASSIGN_OR_RETURN(ForwardResult r, model->Forward(*cache, ids, soft.positions.empty() ? nullptr : &soft, options));
    logits = std::move(r.logits);
  }
  RETURN_IF_ERROR(WriteNpyF32(out_path, logits, {static_cast<int64_t>(ids.size()), vocab}));
  std::fprintf(stderr, "wrote logits [%zu, %lld] to %s\n", ids.size(), static_cast<long long>(vocab),
               out_path.c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::inspect
