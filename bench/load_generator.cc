// gemma3n-load: many concurrent streaming Generate calls against a gateway,
// as clients on a busy server would make them, and what they saw: how many
// succeeded, were refused for a full queue (RESOURCE_EXHAUSTED, the
// configured backpressure) or failed otherwise, and the time to first token
// and total time (p50 / p99 / max) of the successful ones. Every --image /
// --audio given is sent in every --media-every-th request (mixed load).
//
//   build/bin/gemma3n-load --addr 127.0.0.1:50051 [--clients 64] [--requests 4] [--max-new 16]
//       [--image FILE] [--audio FILE] [--media-every 4] [--api-key KEY]
//
// Exit code 0 when no request failed other than RESOURCE_EXHAUSTED, else 1.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <mutex>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/cli/args.h"
#include "common/cli/exit_status.h"
#include "common/logging/log.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "gemma3n/v1/gemma.grpc.pb.h"

namespace gemma3n {
namespace {

namespace pb = gemma3n::v1;
using Clock = std::chrono::steady_clock;

struct Outcome {
  grpc::StatusCode code = grpc::StatusCode::OK;
  std::string message;
  double ttft = 0, total = 0;  // seconds
  int tokens = 0;
};

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

Outcome Stream(pb::Gemma::Stub& stub, const pb::GenerateRequest& req, const std::string& api_key) {
  grpc::ClientContext ctx;
  if (!api_key.empty()) ctx.AddMetadata("authorization", "Bearer " + api_key);
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::minutes(10));
  const auto start = Clock::now();
  Outcome out;
  auto reader = stub.Generate(&ctx, req);
  pb::GenerateResponse r;
  while (reader->Read(&r)) {
    if (out.tokens == 0 && r.token_ids_size() > 0) out.ttft = std::chrono::duration<double>(Clock::now() - start).count();
    out.tokens += r.token_ids_size();
  }
  const grpc::Status s = reader->Finish();
  out.total = std::chrono::duration<double>(Clock::now() - start).count();
  out.code = s.error_code();
  out.message = s.error_message();
  return out;
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * (v.size() - 1) + 0.5))];
}

absl::Status Run(const std::vector<std::string>& argv) {
  ASSIGN_OR_RETURN(Args args, Args::Parse(argv,
                                          {"addr", "clients", "requests", "max-new", "image", "audio", "media-every",
                                           "api-key"},
                                          {}));
  const std::string addr = args.Get("addr").value_or("127.0.0.1:50051");
  ASSIGN_OR_RETURN(int64_t clients, args.Int("clients", 64));
  ASSIGN_OR_RETURN(int64_t requests, args.Int("requests", 4));
  ASSIGN_OR_RETURN(int64_t max_new, args.Int("max-new", 16));
  ASSIGN_OR_RETURN(int64_t media_every, args.Int("media-every", 4));
  if (clients < 1 || clients > 4096 || requests < 1 || max_new < 1 || media_every < 1) {
    return absl::InvalidArgumentError("--clients in [1, 4096], --requests, --max-new and --media-every >= 1");
  }
  std::string image, audio;
  if (auto f = args.Get("image")) {
    ASSIGN_OR_RETURN(image, ReadFile(*f));
  }
  if (auto f = args.Get("audio")) {
    ASSIGN_OR_RETURN(audio, ReadFile(*f));
  }
  const std::string api_key = args.Get("api-key").value_or("");

  auto request = [&](int64_t n) {
    pb::GenerateRequest req;
    pb::Message* user = req.add_messages();
    user->set_role("user");
    if (n % media_every == media_every - 1) {
      if (!image.empty()) user->add_parts()->mutable_image()->set_data(image);
      if (!audio.empty()) user->add_parts()->mutable_audio()->set_data(audio);
    }
    user->add_parts()->set_text(absl::StrCat("Tell me story number ", n, "."));
    req.mutable_config()->set_max_new_tokens(static_cast<int>(max_new));
    req.mutable_config()->set_ignore_eos(true);
    return req;
  };

  auto stub = pb::Gemma::NewStub(MakeChannel(addr));
  std::mutex mu;
  std::vector<Outcome> outcomes;
  std::atomic<int64_t> next{0};
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int64_t c = 0; c < clients; ++c) {
    threads.emplace_back([&] {
      for (int64_t n = next++; n < clients * requests; n = next++) {
        Outcome o = Stream(*stub, request(n), api_key);
        std::lock_guard<std::mutex> lock(mu);
        outcomes.push_back(std::move(o));
      }
    });
  }
  for (std::thread& t : threads) t.join();
  const double wall = std::chrono::duration<double>(Clock::now() - start).count();

  int64_t ok = 0, exhausted = 0, failed = 0, tokens = 0;
  std::vector<double> ttft, total;
  std::string first_failure;
  for (const Outcome& o : outcomes) {
    if (o.code == grpc::StatusCode::OK) {
      ++ok;
      tokens += o.tokens;
      ttft.push_back(o.ttft);
      total.push_back(o.total);
    } else if (o.code == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++exhausted;
    } else {
      if (failed++ == 0) first_failure = absl::StrCat("code ", o.code, ": ", o.message);
    }
  }
  std::printf("%lld requests from %lld clients in %.1f s: %lld ok, %lld resource_exhausted, %lld failed%s%s\n",
              static_cast<long long>(outcomes.size()), static_cast<long long>(clients), wall,
              static_cast<long long>(ok), static_cast<long long>(exhausted), static_cast<long long>(failed),
              failed ? " (first: " : "", failed ? (first_failure + ")").c_str() : "");
  std::printf("time to first token: p50 %.3f s, p99 %.3f s, max %.3f s\n", Percentile(ttft, 0.5),
              Percentile(ttft, 0.99), Percentile(ttft, 1.0));
  std::printf("total time:          p50 %.3f s, p99 %.3f s, max %.3f s\n", Percentile(total, 0.5),
              Percentile(total, 0.99), Percentile(total, 1.0));
  std::printf("generated %lld tokens, %.1f tokens/s overall\n", static_cast<long long>(tokens), tokens / wall);
  // Fairness. A closed loop keeps `clients` requests in the system, so by
  // Little's law a request spends clients / throughput in it; served first
  // come, first served, every request waits about that long minus the time
  // after its first token, and the p99 stays near it. Out-of-order service
  // shows as a p99 well above the prediction.
  if (ok > 0 && wall > 0) {
    double after_first = 0;
    for (size_t i = 0; i < ttft.size(); ++i) after_first += total[i] - ttft[i];
    after_first /= static_cast<double>(ttft.size());
    const double predicted = static_cast<double>(clients) / (static_cast<double>(ok) / wall) - after_first;
    if (predicted > 0) {
      std::printf("FIFO prediction:     time to first token %.3f s (clients / throughput - mean time after the "
                  "first token); p99 / prediction %.2f\n",
                  predicted, Percentile(ttft, 0.99) / predicted);
    }
  }
  if (failed > 0) return absl::UnavailableError(absl::StrCat(failed, " requests failed"));
  return absl::OkStatus();
}

}  // namespace
}  // namespace gemma3n

int main(int argc, char** argv) {
  gemma3n::InitLogging();
  return gemma3n::RunToolMain(
      argc, argv, "gemma3n-load",
      "usage: gemma3n-load --addr HOST:PORT [--clients 64] [--requests 4] [--max-new 16] [--image FILE]\n"
      "       [--audio FILE] [--media-every 4] [--api-key KEY]\n"
      "  concurrent streaming Generate calls; prints ok / resource_exhausted / failed counts and\n"
      "  time-to-first-token and total-time percentiles; exit 1 when any request failed otherwise\n",
      gemma3n::Run);
}
