// gemma3n: run the whole service (`serve`), talk to it (`chat`, `batch`), or
// fetch a checkpoint from the Hugging Face hub (`pull`).
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "common/cli/subcommands.h"
#include "common/logging/log.h"

namespace {

constexpr char kUsage[] = R"(usage: gemma3n COMMAND [flags]

  pull ORG/NAME[@REV] [--revision REV] [--token TOKEN] [--endpoint URL] [--log-level L]
      download a checkpoint from the Hugging Face hub: config.json, the
      tokenizer and processor files and the safetensors weights (the shards
      the index names), nothing else. Into the hub cache Python's
      huggingface_hub shares ($HF_HUB_CACHE, default $HF_HOME/hub, HF_HOME
      default ~/.cache/huggingface); resumes an interrupted pull, checks
      sha256, downloads nothing already there. --revision: branch, tag or
      commit (main). --token: default $HF_TOKEN, else the file `hf auth
      login` writes ($HF_HOME/token); Gemma is gated: accept the licence on
      https://huggingface.co/ORG/NAME first. --endpoint: a mirror (default
      $HF_ENDPOINT, else https://huggingface.co).

  serve --model DIR|ORG/NAME[@REV] [--listen 127.0.0.1:50051] [--text-workers N] [--threads N]
        [--max-sequences N] [--context N] [--prefix-cache-mb N] [--ple-cache-mb N]
        [--image-size N] [--profiles FILE.csv] [--weights bf16|int8|int4]
        [--weight-cache DIR|none]
        [--no-vision] [--no-audio] [--encoders always|on-demand]
        [--encoder-idle-stop DURATION] [--preload] [--run-dir DIR] [--log-level L]
        [--http HOST:PORT] [--served-model-name NAME] [--max-new-tokens N]
        [--max-concurrent N] [--max-queued N] [--max-request-mb N]
        [--request-timeout-s S] [--api-key-file FILE]
        [--tls-cert FILE --tls-key FILE [--tls-client-ca FILE]] [--metrics HOST:PORT]
      start the PLE service, the text worker(s), the encoders the model has
      and the gateway as supervised child processes (unix sockets between
      them in a private directory; the gateway on --listen, and the
      OpenAI-compatible HTTP API on --http when given). A crashed
      process is restarted with back-off; SIGINT/SIGTERM stops them all.
      --model ORG/NAME runs a repo fetched with `gemma3n pull` from the hub
      cache, offline. --encoders on-demand starts the vision / audio worker
      for the first request that needs it (that request waits for it) and
      stops it after --encoder-idle-stop without requests (5m). The limits, --http, --served-model-name, --api-key-file
      and --tls-* are the gateway's (see gemma3n-gateway --help), passed on.
      --metrics: Prometheus metrics of every process at
      http://HOST:PORT/metrics, each child's labelled process="NAME".

  chat [--addr HOST:PORT] [--prompt TEXT] [--system TEXT] [--image FILE]...
       [--audio FILE]... [--max-new N] [--temperature T] [--top-k K]
       [--top-p P] [--min-p P] [--repetition-penalty R] [--seed S]
       [--stop STR]... [--profile NAME] [--ignore-eos] [--raw] [--count] [--info]
       [--quiet]
      stream a reply: one-shot with --prompt, else interactive (a line per
      user turn; /reset, /quit). --count prints the prompt's token count,
      --info the model and worker status. Usage figures go to stderr.

  batch --input REQUESTS.jsonl --output RESULTS.jsonl (--url URL | --model DIR)
        [--concurrency N] [--max-attempts N] [--timeout-s S] [--api-key KEY]
        [--start-timeout-s S] [--threads N] [--weights bf16|int8|int4]
      run an OpenAI batch file (one {"custom_id", "method", "url", "body"}
      a line; url /v1/chat/completions or /v1/completions) against a running
      gateway's HTTP API (--url http://HOST:PORT), or a `gemma3n serve`
      started for it (--model; its log in RESULTS.jsonl.serve.log). N
      requests at once (8); 429 / 5xx / no answer retried with back-off (5
      attempts); one result or error line per request, as OpenAI's batch
      output. Rerun with the same --output: finished custom_ids are skipped.
)";

}  // namespace

int main(int argc, char** argv) {
  gemma3n::InitLogging("serve");
  return gemma3n::RunSubcommand(argc, argv, "gemma3n", kUsage,
                                {{"serve", gemma3n::cli::RunServe}, {"chat", gemma3n::cli::RunChat},
                                 {"batch", gemma3n::cli::RunBatch}, {"pull", gemma3n::cli::RunPull}});
}
