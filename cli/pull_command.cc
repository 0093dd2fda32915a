// gemma3n pull ORG/NAME: a checkpoint from the Hugging Face hub into the hub
// cache (shared with Python's huggingface_hub), for --model ORG/NAME.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "common/cli/args.h"
#include "common/cli/progress_meter.h"
#include "common/hub/hub_cache.h"
#include "common/hub/pull.h"
#include "common/hub/repo_id.h"
#include "common/hub/token.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"

namespace gemma3n::cli {

absl::Status RunPull(const std::vector<std::string>& argv) {
  if (argv.empty()) return absl::InvalidArgumentError("give the repo id, e.g. gemma3n pull google/gemma-3n-E2B-it");
  if (argv[0].rfind("--", 0) == 0) {
    return absl::InvalidArgumentError("the repo id comes first: gemma3n pull ORG/NAME [flags] (see --help)");
  }
  ASSIGN_OR_RETURN(Args args, Args::Parse(std::vector<std::string>(argv.begin() + 1, argv.end()),
                                          {"revision", "token", "endpoint", "log-level"}, {}));
  if (auto level = args.Get("log-level")) RETURN_IF_ERROR(SetLogLevel(*level));

  hub::PullOptions options;
  // ORG/NAME@REV as --model takes it, or --revision.
  ASSIGN_OR_RETURN(options.ref, hub::ParseModelRef(argv[0]));
  if (auto revision = args.Get("revision")) {
    if (argv[0].find('@') != std::string::npos) return absl::InvalidArgumentError("give the revision once: @REV or --revision");
    options.ref.revision = *revision;
  }
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
              HumanBytes(static_cast<double>(result.bytes)).c_str(), result.downloaded,
              result.snapshot_dir.c_str(), model_flag.c_str());
  return absl::OkStatus();
}

}  // namespace gemma3n::cli
