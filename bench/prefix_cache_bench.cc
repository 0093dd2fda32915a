// gemma3n-prefix-bench: time to first token of each turn of a multi-turn
// conversation, with the text worker's prefix cache and without it. Each
// turn resends the whole history (as every chat client does) plus --user new
// tokens, and the reply is --reply greedy tokens; both runs go through the
// batch scheduler the text worker serves with, on one model in this process.
// Without the cache the first token waits for the whole history; with it,
// for the new tokens only. The replies are compared: reused rows equal
// recomputed ones to rounding, so on random weights (flat logits) a greedy
// token can differ; the table says from which token on. Each run goes on
// with its own replies, as a client of that server would.
//   build/bin/gemma3n-prefix-bench --model DIR [--turns 10] [--user 64] [--reply 32]
//       [--threads N] [--weights bf16|int8|int4] [--prefix-cache-mb 512]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "text_worker/serving/batch_scheduler.h"
#include "text_worker/serving/text_model_executor.h"

namespace gemma3n {
namespace {

constexpr char kUsage[] = R"(usage: gemma3n-prefix-bench --model DIR [flags]
  time to first token of every turn of a conversation (each turn resends
  the history), with the prefix cache and without it

  --turns N            turns of the conversation (10)
  --user N             new prompt tokens per turn (64)
  --reply N            tokens generated per turn, greedy (32)
  --threads N          compute threads (default: all cores)
  --weights FORMAT     bf16 (default), int8 or int4
  --prefix-cache-mb N  the cache's budget in the run with it (512)
)";

struct Turn {
  std::vector<int> tokens;
  double first_token_s = 0;
};

absl::StatusOr<Turn> RunTurn(BatchScheduler& scheduler, const std::vector<int>& prompt, int reply) {
  SequenceRequest r;
  r.prompt = prompt;
  r.max_new_tokens = reply;
  ASSIGN_OR_RETURN(std::shared_ptr<SequenceStream> stream, scheduler.Submit(std::move(r)));
  Turn t;
  for (;;) {
    SequenceUpdate u = stream->Wait(std::chrono::seconds(600));
    t.tokens.insert(t.tokens.end(), u.tokens.begin(), u.tokens.end());
    if (u.prefill_seconds > 0) t.first_token_s = u.prefill_seconds;
    if (u.done) {
      RETURN_IF_ERROR(u.status);
      return t;
    }
  }
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "turns", "user", "reply", "threads", "weights",
                                                 "prefix-cache-mb"},
                                          {}));
  ASSIGN_OR_RETURN(std::string dir, args.Required("model"));
  ASSIGN_OR_RETURN(int64_t turns, args.Int("turns", 10));
  ASSIGN_OR_RETURN(int64_t user, args.Int("user", 64));
  ASSIGN_OR_RETURN(int64_t reply, args.Int("reply", 32));
  ASSIGN_OR_RETURN(int64_t cache_mb, args.Int("prefix-cache-mb", 512));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  if (turns < 1 || turns > 1000 || user < 1 || reply < 1 || cache_mb < 1) {
    return absl::InvalidArgumentError("--turns in [1, 1000], --user, --reply and --prefix-cache-mb >= 1");
  }
  TextModel::Options options;
  options.threads = threads;
  ASSIGN_OR_RETURN(options.weights, ParseWeightFormat(args.Get("weights").value_or("bf16")));
  ASSIGN_OR_RETURN(std::unique_ptr<TextModel> model, TextModel::Load(dir, options));
  const TextModelExecutor executor(*model);
  SchedulerOptions without_options, with_options;
  with_options.prefix_cache_bytes = cache_mb << 20;
  BatchScheduler without(executor, without_options), with(executor, with_options);

  std::mt19937 rng(7);
  // Ordinary text ids: past the first 10 (control tokens), below the
  // per-layer vocabulary (where the multimodal ids start).
  std::uniform_int_distribution<int> id(10, model->text_config().vocab_size_per_layer_input - 1);
  std::vector<int> history = {2}, history_with = {2};  // <bos>
  std::printf("| turn | history tokens | prompt tokens | TTFT without (s) | TTFT with (s) | speed-up | replies |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  int64_t diverged = 0;  // the first turn whose replies differed
  for (int64_t turn = 1; turn <= turns; ++turn) {
    const int64_t before = static_cast<int64_t>(history.size());
    for (int64_t i = 0; i < user; ++i) {
      history.push_back(id(rng));
      history_with.push_back(history.back());
    }
    ASSIGN_OR_RETURN(Turn a, RunTurn(without, history, static_cast<int>(reply)));
    ASSIGN_OR_RETURN(Turn b, RunTurn(with, history_with, static_cast<int>(reply)));
    const size_t same = std::mismatch(a.tokens.begin(), a.tokens.end(), b.tokens.begin(), b.tokens.end()).first -
                        a.tokens.begin();
    std::string replies = same == a.tokens.size() ? "same" : absl::StrCat("differ from token ", same + 1);
    if (diverged > 0) replies = absl::StrCat("(histories differ since turn ", diverged, ")");
    if (same < a.tokens.size() && diverged == 0) diverged = turn;
    std::printf("| %lld | %lld | %zu | %.3f | %.3f | %.1fx | %s |\n", static_cast<long long>(turn),
                static_cast<long long>(before), history.size(), a.first_token_s, b.first_token_s,
                a.first_token_s / std::max(b.first_token_s, 1e-9), replies.c_str());
    std::fflush(stdout);
    history.insert(history.end(), a.tokens.begin(), a.tokens.end());
    history_with.insert(history_with.end(), b.tokens.begin(), b.tokens.end());
  }
  const PrefixCacheStats s = with.stats().prefix_cache;
  std::printf("prefix cache: %lld hits of %lld lookups, %lld prompt tokens reused, %d entries, %.1f MB; "
              "replies first differed at turn %lld (0: never)\n",
              static_cast<long long>(s.hits), static_cast<long long>(s.lookups),
              static_cast<long long>(s.reused_tokens), s.entries, s.bytes / 1048576.0,
              static_cast<long long>(diverged));
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-prefix-bench", gemma3n::kUsage, gemma3n::Run);
}
