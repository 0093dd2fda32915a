// gemma3n-slice: write a MatFormer sub-model of a Gemma 3n checkpoint as a
// checkpoint of its own (see text_worker/matformer/checkpoint_slicer.h).
#include <cstdio>

#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/hub/model_flag.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "text_worker/matformer/checkpoint_slicer.h"
#include "text_worker/matformer/slicing_profile.h"

namespace {

constexpr char kUsage[] = R"(usage: gemma3n-slice --model DIR|ORG/NAME --profile NAME --out DIR [--profiles FILE.csv]
                     [--max-shard-gb N]

Writes the sub-model of a MatFormer slicing profile (one of the 16 published
ones by name or alias: E4B, E2B, E2.54B-layer, E2.98B-block, ...; or a row of
--profiles FILE.csv in the published format) as a Hugging Face checkpoint.
)";

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(gemma3n::Args args,
                   gemma3n::Args::Parse(argv, {"model", "profile", "out", "profiles", "max-shard-gb"}, {}));
  ASSIGN_OR_RETURN(std::string model, gemma3n::hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(std::string name, args.Required("profile"));
  ASSIGN_OR_RETURN(std::string out, args.Required("out"));
  ASSIGN_OR_RETURN(double shard_gb, args.Double("max-shard-gb", 4.0));
  if (!(shard_gb > 0)) return absl::InvalidArgumentError("--max-shard-gb must be positive");
  std::vector<gemma3n::SlicingProfile> profiles = gemma3n::PublishedProfiles();
  if (auto file = args.Get("profiles")) {
    ASSIGN_OR_RETURN(auto extra, gemma3n::LoadSlicingProfiles(*file));
    profiles.insert(profiles.begin(), extra.begin(), extra.end());
  }
  ASSIGN_OR_RETURN(gemma3n::SlicingProfile profile, gemma3n::FindProfile(profiles, name));
  gemma3n::SliceOptions options;
  options.max_shard_bytes = static_cast<int64_t>(shard_gb * 1e9);
  return gemma3n::WriteSlicedCheckpoint(model, profile, out, options);
}

}  // namespace

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  const std::vector<std::string> args(argv + 1, argv + argc);
  if (args.empty() || args[0] == "--help") {
    std::fputs(kUsage, args.empty() ? stderr : stdout);
    return args.empty() ? 2 : 0;
  }
  return gemma3n::ExitWithStatus("gemma3n-slice", Run(args));
}
