// gemma3n pull ORG/NAME: a checkpoint from the Hugging Face hub into the hub
// cache (shared with Python's huggingface_hub), for --model ORG/NAME.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/cli/args.h"
#include "common/hub/hub_cache.h"
#include "common/hub/progress.h"
#include "common/hub/pull.h"
#include "common/hub/token.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"

namespace gemma3n::cli {
namespace {

constexpr char kPullUsage[] = R"(usage: gemma3n pull ORG/NAME [--revision REV] [--token TOKEN] [--endpoint URL]
                    [--log-level L]

Downloads a checkpoint from the Hugging Face hub into the hub cache:
config.json, the tokenizer and processor files and the safetensors weights
(the shards model.safetensors.index.json names), nothing else of the repo.
An interrupted pull resumes where it stopped; a finished one downloads
nothing again. Then: gemma3n serve --model ORG/NAME

  --revision REV   branch, tag or commit (main)
  --token TOKEN    access token (default: $HF_TOKEN, else the token file
                   `hf auth login` writes, $HF_HOME/token). Gemma repos are
                   gated: accept the licence on https://huggingface.co/ORG/NAME
                   first, then use a token of that account.
  --endpoint URL   the hub or a mirror (default: $HF_ENDPOINT, else
                   https://huggingface.co)
  --log-level L    trace, debug, info, warn, error (info)

Files go to $HF_HUB_CACHE (default $HF_HOME/hub, HF_HOME default
~/.cache/huggingface) as models--ORG--NAME/{blobs,snapshots,refs}, the layout
of Python's huggingface_hub: either one reuses what the other downloaded.
)";

}  // namespace

absl::Status RunPull(const std::vector<std::string>& argv) {
  if (argv.empty() || argv[0] == "--help" || argv[0] == "-h") {
    std::fputs(kPullUsage, argv.empty() ? stderr : stdout);
    return argv.empty() ? absl::InvalidArgumentError("give the repo id, e.g. gemma3n pull google/gemma-3n-E2B-it")
                        : absl::OkStatus();
  }
  if (argv[0].rfind("--", 0) == 0) {
    return absl::InvalidArgumentError("the repo id comes first: gemma3n pull ORG/NAME [flags] (see --help)");
  }
  ASSIGN_OR_RETURN(Args args, Args::Parse(std::vector<std::string>(argv.begin() + 1, argv.end()),
                                          {"revision", "token", "endpoint", "log-level"}, {}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(SetLogLevel(*level));

  hub::PullOptions options;
  options.ref = {argv[0], args.Get("revision").value_or(hub::kDefaultRevision)};
  const char* env_endpoint = std::getenv("HF_ENDPOINT");
  options.client.endpoint =
      args.Get("endpoint").value_or(env_endpoint && *env_endpoint ? env_endpoint : hub::kDefaultEndpoint);
  options.client.token = hub::FindToken(args.Get("token"));
  options.cache_dir = hub::HubCacheDir();
  options.terminal = ::isatty(STDERR_FILENO) == 1;
  ASSIGN_OR_RETURN(const hub::PullResult result, hub::PullModel(options));
  const std::string model_flag = options.ref.revision == hub::kDefaultRevision
                                     ? options.ref.repo
                                     : absl::StrCat(options.ref.repo, "@", options.ref.revision);
  std::printf("%s@%s: %d files (%s), %d downloaded now\n  %s\nserve it: gemma3n serve --model %s\n",
              options.ref.repo.c_str(), result.commit.c_str(), result.files,
              hub::TransferProgress::Bytes(static_cast<double>(result.bytes)).c_str(), result.downloaded,
              result.snapshot_dir.c_str(), model_flag.c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::cli
