// gemma3n-inspect encode-image: an image's soft tokens.
#include <cstdio>

#include "common/checkpoint/checkpoint.h"
#include "common/cli/args.h"
#include "common/hub/model_flag.h"
#include "common/io/npy.h"
#include "common/status/status_macros.h"
#include "tools/inspect/commands.h"
#include "tools/inspect/media_flags.h"

namespace gemma3n::inspect {

absl::Status RunEncodeImage(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "image", "out", "image-size"}, {}));
  ASSIGN_OR_RETURN(std::string model_dir, hub::ModelDirFlag(args));
  ASSIGN_OR_RETURN(std::string out, args.Required("out"));
  RETURN_IF_ERROR(args.Required("image").status());
  ASSIGN_OR_RETURN(nlohmann::json json, ReadJsonFile(model_dir + "/config.json"));
  ASSIGN_OR_RETURN(ModelConfig config, ParseModelConfig(json));
  ASSIGN_OR_RETURN(ImageRows images, ImagesFromArgs(args, model_dir, config));
  const int64_t rows = images.images * images.rows_per_image;
  RETURN_IF_ERROR(WriteNpyF32(out, images.rows, {rows, images.hidden}));
  std::fprintf(stderr, "wrote [%lld, %lld] to %s (%d image(s))\n", static_cast<long long>(rows),
               static_cast<long long>(images.hidden), out.c_str(), images.images);
  return absl::OkStatus();
}

}  // namespace gemma3n::inspect
