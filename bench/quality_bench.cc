// gemma3n-quality-bench: how far the int8 / int4 weight formats move the
// model's next-token distributions away from the checkpoint's own bf16, on
// the same tokens: the mean, 99th-percentile and largest KL divergence
// KL(p_bf16 || p_format) over positions, and how often the most likely token
// is the same. These are the measures llama.cpp's `llama-perplexity
// --kl-divergence` reports for Q8_0 / Q4_0 against F16, so the two can be
// set side by side on the same weights and tokens.
//   build/bin/gemma3n-quality-bench --model DIR [--formats int8,int4] [--positions 256] [--seed 1]
//       [--threads N] [--weight-cache DIR|none]
// The tokens are random text ids (seeded): on random weights one text is as
// good as another; on real weights pass tokenized text with --ids
// (whitespace-separated ids).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/logging/log.h"
#include "common/status/status_macros.h"
#include "text_worker/model/text_model.h"

namespace gemma3n {
namespace {

constexpr char kUsage[] = R"(usage: gemma3n-quality-bench --model DIR [flags]
  KL divergence and top-1 agreement of the int8 / int4 formats' next-token
  distributions against the checkpoint's bf16, position by position

  --formats LIST       weight formats to compare with bf16 (int8,int4)
  --positions N        tokens run (256), in forwards of up to 64
  --ids FILE           these tokens instead (whitespace-separated ids;
                       --positions is then their number)
  --seed N             for the random tokens (1)
  --threads N          compute threads (default: all cores)
  --weight-cache DIR   where int8/int4 weights are cached ("none": convert
                       at every run; default beside the checkpoint)
)";

constexpr int64_t kChunk = 64;  // positions per forward: logits [64, vocab]

// log-softmax of every row of logits [rows, vocab], in place.
void LogSoftmax(std::vector<float>& logits, int64_t vocab) {
  for (size_t r = 0; r * vocab < logits.size(); ++r) {
    float* row = logits.data() + r * vocab;
    const float max = *std::max_element(row, row + vocab);
    double sum = 0;
    for (int64_t i = 0; i < vocab; ++i) sum += std::exp(static_cast<double>(row[i] - max));
    const float log_sum = max + static_cast<float>(std::log(sum));
    for (int64_t i = 0; i < vocab; ++i) row[i] -= log_sum;
  }
}

// Log-probabilities [positions, vocab] of every position of `ids`.
absl::StatusOr<std::vector<float>> LogProbs(const TextModel& model, const std::vector<int>& ids) {
  const int64_t vocab = model.text_config().vocab_size;
  auto cache = model.NewCache(static_cast<int64_t>(ids.size()));
  std::vector<float> out;
  out.reserve(ids.size() * vocab);
  for (size_t p = 0; p < ids.size(); p += kChunk) {
    const size_t n = std::min<size_t>(kChunk, ids.size() - p);
    ASSIGN_OR_RETURN(ForwardResult r, model.Forward(*cache, absl::MakeConstSpan(ids).subspan(p, n), LogitsFor::kAll));
    LogSoftmax(r.logits, vocab);
    out.insert(out.end(), r.logits.begin(), r.logits.end());
  }
  return out;
}

absl::StatusOr<std::vector<int>> ReadIds(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("--ids: cannot read ", path));
  std::vector<int> ids;
  std::string field;
  while (in >> field) {
    int id = 0;
    if (!absl::SimpleAtoi(field, &id)) return absl::InvalidArgumentError(absl::StrCat("--ids: '", field, "' is not an id"));
    ids.push_back(id);
  }
  return ids;
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv, {"model", "formats", "positions", "ids", "seed", "threads",
                                                 "weight-cache"},
                                          {}));
  ASSIGN_OR_RETURN(std::string dir, args.Required("model"));
  ASSIGN_OR_RETURN(int64_t positions, args.Int("positions", 256));
  ASSIGN_OR_RETURN(int64_t seed, args.Int("seed", 1));
  ASSIGN_OR_RETURN(int threads, ThreadsFlag(args));
  if (positions < 2 || positions > 32768) return absl::InvalidArgumentError("--positions must be in [2, 32768]");
  std::vector<WeightFormat> formats;
  for (absl::string_view name : absl::StrSplit(args.Get("formats").value_or("int8,int4"), ',')) {
    ASSIGN_OR_RETURN(WeightFormat f, ParseWeightFormat(std::string(name)));
    if (f == WeightFormat::kBf16) return absl::InvalidArgumentError("--formats: bf16 is the reference");
    formats.push_back(f);
  }

  TextModel::Options options;
  options.threads = threads;
  options.weight_cache_dir = args.Get("weight-cache").value_or("");
  ASSIGN_OR_RETURN(std::unique_ptr<TextModel> reference, TextModel::Load(dir, options));
  const TextConfig c = reference->text_config();  // a copy: the reference is freed below
  std::vector<int> ids;
  if (auto file = args.Get("ids")) {
    ASSIGN_OR_RETURN(ids, ReadIds(*file));
    if (ids.size() < 2) return absl::InvalidArgumentError("--ids: at least 2 ids");
  } else {
    std::mt19937 rng(static_cast<uint32_t>(seed));
    std::uniform_int_distribution<int> token(10, std::min(c.vocab_size, c.vocab_size_per_layer_input) - 1);
    ids = {2};  // <bos>
    while (static_cast<int64_t>(ids.size()) < positions) ids.push_back(token(rng));
  }
  ASSIGN_OR_RETURN(const std::vector<float> ref, LogProbs(*reference, ids));
  reference.reset();  // one model in memory at a time besides the reference's log-probs

  const int64_t vocab = c.vocab_size;
  const int64_t n = static_cast<int64_t>(ids.size());
  std::printf("| weights | positions | mean KL | p99 KL | max KL | top-1 agreement |\n");
  std::printf("|---|---:|---:|---:|---:|---:|\n");
  for (WeightFormat f : formats) {
    options.weights = f;
    ASSIGN_OR_RETURN(std::unique_ptr<TextModel> model, TextModel::Load(dir, options));
    ASSIGN_OR_RETURN(const std::vector<float> got, LogProbs(*model, ids));
    std::vector<double> kl(n);
    int64_t same_top = 0;
    for (int64_t p = 0; p < n; ++p) {
      const float* a = ref.data() + p * vocab;
      const float* b = got.data() + p * vocab;
      double d = 0;
      for (int64_t i = 0; i < vocab; ++i) d += std::exp(static_cast<double>(a[i])) * (a[i] - b[i]);
      kl[p] = std::max(0.0, d);
      same_top += (std::max_element(a, a + vocab) - a) == (std::max_element(b, b + vocab) - b);
    }
    double mean = 0;
    for (double d : kl) mean += d;
    mean /= n;
    std::vector<double> sorted = kl;
    std::sort(sorted.begin(), sorted.end());
    const double p99 = sorted[std::min<size_t>(sorted.size() - 1, static_cast<size_t>(0.99 * sorted.size()))];
    std::printf("| %s | %lld | %.6f | %.6f | %.6f | %.2f%% |\n", WeightFormatName(f), static_cast<long long>(n), mean,
                p99, sorted.back(), 100.0 * same_top / n);
  }
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(argc, argv, "gemma3n-quality-bench", gemma3n::kUsage, gemma3n::Run);
}
