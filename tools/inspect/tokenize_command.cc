// gemma3n-inspect tokenize: the ids of a text.
#include <cstdio>

#include "absl/strings/str_join.h"
#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/hub/model_flag.h"
#include "common/status/status_macros.h"
#include "common/tokenizer/tokenizer.h"
#include "tools/inspect/commands.h"

namespace gemma3n::inspect {

absl::Status RunTokenize(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "tokenizer", "text"}, {"no-bos"}));
  if (args.Has("model") == args.Has("tokenizer")) {
    return absl::InvalidArgumentError("give exactly one of --model DIR and --tokenizer FILE");
  }
  ASSIGN_OR_RETURN(std::string text, args.Required("text"));
  std::unique_ptr<Tokenizer> tokenizer;
  if (args.Has("model")) {
    ASSIGN_OR_RETURN(const std::string dir, hub::ModelDirFlag(args));
    ASSIGN_OR_RETURN(nlohmann::json config, ReadJsonFile(dir + "/config.json"));
    ASSIGN_OR_RETURN(tokenizer, LoadModelTokenizer(dir, config));
  } else {
    ASSIGN_OR_RETURN(tokenizer, Tokenizer::Load(*args.Get("tokenizer")));
  }
  const std::vector<int> ids = tokenizer->Encode(text, /*add_bos=*/!args.Has("no-bos"));
  std::printf("%s\n", absl::StrJoin(ids, ",").c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::inspect
