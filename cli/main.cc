// gemma3n: run the whole service (`serve`), talk to it (`chat`), or fetch a
// checkpoint from the Hugging Face hub (`pull`).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/cli/subcommands.h"
#include "common/logging/log.h"

namespace {

constexpr char kUsage[] = R"(usage: gemma3n COMMAND [flags]

  pull ORG/NAME [--revision REV] [--token TOKEN] [--endpoint URL]
      download a checkpoint from the Hugging Face hub into the hub cache
      (shared with Python's huggingface_hub): config, tokenizer, processor
      files and safetensors weights; resumes, verifies, skips what is there.

  serve --model DIR|ORG/NAME[@REV] [--listen 127.0.0.1:50051] [--text-workers N] [--threads N]
        [--max-sequences N] [--context N] [--ple-cache-mb N] [--image-size N]
        [--profiles FILE.csv] [--weights bf16|int8|int4] [--weight-cache DIR|none]
        [--no-vision] [--no-audio] [--preload] [--run-dir DIR] [--log-level L]
      start the PLE service, the text worker(s), the encoders the model has
      and the gateway as supervised child processes (unix sockets between
      them in a private directory; the gateway on --listen). A crashed
      process is restarted with back-off; SIGINT/SIGTERM stops them all.
      --model ORG/NAME runs a repo fetched with `gemma3n pull` from the hub
      cache, offline.

  chat [--addr HOST:PORT] [--prompt TEXT] [--system TEXT] [--image FILE]...
       [--audio FILE]... [--max-new N] [--temperature T] [--top-k K]
       [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S]
       [--stop STR]... [--profile NAME] [--ignore-eos] [--raw] [--count] [--info]
       [--quiet]
      stream a reply: one-shot with --prompt, else interactive (a line per
      user turn; /reset, /quit). --count prints the prompt's token count,
      --info the model and worker status. Usage figures go to stderr.
)";

}  // namespace

int main(int argc, char** argv) {
  gemma3n::InitLogging("serve");
  return gemma3n::RunSubcommand(argc, argv, "gemma3n", kUsage,
                                {{"serve", gemma3n::cli::RunServe},
                                 {"chat", gemma3n::cli::RunChat},
                                 {"pull", gemma3n::cli::RunPull}});
}
