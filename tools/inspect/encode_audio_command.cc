// gemma3n-inspect encode-audio: the rows an audio file puts into a prompt.
#include <cstdio>

#include "absl/strings/str_join.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/hub/model_flag.h"
#include "common/io/npy.h"
#include "common/status/status_macros.h"
#include "tools/inspect/commands.h"
#include "tools/inspect/media_flags.h"

namespace gemma3n::inspect {

absl::Status RunEncodeAudio(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "audio", "out"}, {}));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(std::string out, args.Required("out"));
  RETURN_IF_ERROR(args.Required("audio").status());
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(model_dir + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  ASSIGN_OR_RETURN(std::optional<AudioSpans> audio, AudioFromArgs(args, model_dir, config));
  const int64_t rows = audio->spans * audio->rows_per_span;
  RETURN_IF_ERROR(WriteNpyF32(out, audio->rows, {rows, audio->hidden}));
  std::fprintf(stderr, "wrote [%lld, %lld] to %s (%d span(s); encoder tokens per span: %s)\n",
               static_cast<long long>(rows), static_cast<long long>(audio->hidden), out.c_str(), audio->spans,
               absl::StrJoin(audio->real_tokens, ",").c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::inspect
