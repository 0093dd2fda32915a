// gemma3n-inspect: check and debug the model from the command line. Every
// tensor output is a NumPy .npy file (f32, C order).
#include <cstdio>
#include <string>
#include <vector>

#include "common/cli/subcommands.h"
#include "common/logging/log.h"
#include "tools/inspect/commands.h"

namespace {

constexpr char kUsage[] = R"(usage: gemma3n-inspect COMMAND [flags]

commands:
  tokenize (--model DIR|ORG/NAME | --tokenizer FILE) --text STR [--no-bos]
      print the token ids, comma-separated
  logits --model DIR|ORG/NAME --ids 2,17,... --out FILE.npy [--decode] [--threads N]
         [--profile NAME [--profiles FILE.csv]] [--image FILE]... [--audio FILE]...
      write the logits of every position, [n_tokens, vocab]; --decode runs
      token by token through the KV cache instead of one full forward
  generate --model DIR|ORG/NAME (--ids 2,17,... | --prompt STR [--raw]) --max-new N
           [--temperature T] [--top-k K] [--top-p P] [--min-p P]
           [--repetition-penalty R] [--seed S] [--no-stop] [--threads N]
           [--profile NAME [--profiles FILE.csv]] [--image FILE]... [--audio FILE]...
      print the generated ids on one line, then the text. --prompt is sent as
      a user turn through the chat template unless --raw. Greedy unless
      --temperature or a filter (--top-k, --top-p, --min-p) is given.
      Stops at the model's end-of-turn/eos ids unless
      --no-stop.

  encode-image --model DIR|ORG/NAME --image FILE --out FILE.npy
      write the image's soft tokens [vision_soft_tokens_per_image, text hidden]
  encode-audio --model DIR|ORG/NAME --audio FILE --out FILE.npy
      write the audio's placeholder rows [spans * audio_soft_tokens_per_image,
      text hidden]: encoder soft tokens, padded as the model pads them

--model is a checkpoint directory or a Hugging Face repo id ORG/NAME[@REV]
fetched before with `gemma3n pull ORG/NAME`.

--image (repeatable) decodes JPEG/PNG/BMP/GIF, resizes to the vision tower's
input (--image-size N: another square size the tower takes, e.g. 256, 512 or
768 for the real model; the same number of soft tokens) and encodes it; with --prompt each image is an image
part of the user turn (images, then audio, then the text).
--audio (repeatable) encodes WAV/FLAC/OGG/MP3 with the checkpoint's audio
tower; a recording longer than 30 s becomes several spans of 30 s. With
--prompt each span is an audio part of the user turn, before the text; with
--ids the ids must hold the placeholder runs (audio_token_id).

--profile runs a MatFormer sub-model of the loaded checkpoint: a published
profile by name or alias (E4B, E2B, E2.54B-layer, E2.98B-block, ...) or a row
of --profiles FILE.csv (the published CSV format).

Log level: GEMMA3N_LOG_LEVEL=debug|info|warn|error (default info, on stderr).
)";

}  // namespace

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  namespace inspect = gemma3n::inspect;
  return gemma3n::RunSubcommand(argc, argv, "gemma3n-inspect", kUsage,
                                {{"tokenize", inspect::RunTokenize},
                                 {"logits", inspect::RunLogits},
                                 {"generate", inspect::RunGenerate},
                                 {"encode-image", inspect::RunEncodeImage},
                                 {"encode-audio", inspect::RunEncodeAudio}});
}
