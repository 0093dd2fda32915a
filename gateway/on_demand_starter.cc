#include "gateway/on_demand_starter.h"

#include <algorithm>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/rpc/status.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace ipb = gemma3n::internal::v1;

OnDemandStarter::OnDemandStarter(const std::string& control_address)
    : control_(ipb::ServeControl::NewStub(MakeChannel(control_address))) {}

absl::Status OnDemandStarter::StartAndWait(const WorkerPool& pool, std::chrono::system_clock::time_point deadline,
                                           const grpc::ServerContext& context) const {
  const auto start = std::chrono::system_clock::now();
  const auto give_up = std::min(deadline, start + kStartTimeout);
  bool logged = false;
  // Ask once a second while waiting: serve reports a worker that failed to
  // start, and starts it again if it stopped in between.
  for (auto next_ask = start;; std::this_thread::sleep_for(std::chrono::milliseconds(50))) {
    const auto now = std::chrono::system_clock::now();
    if (now >= next_ask) {
      ipb::StartWorkerRequest req;
      req.set_kind(pool.kind());
      ipb::StartWorkerResponse resp;
      grpc::ClientContext ctx;
      ctx.set_deadline(now + std::chrono::seconds(5));
      const grpc::Status s = control_->StartWorker(&ctx, req, &resp);
      if (!s.ok()) {
        return absl::UnavailableError(
            absl::StrCat("the ", pool.kind(), " worker could not be started: ", s.error_message()));
      }
      if (!logged && !resp.was_running()) {
        spdlog::info("started the {} worker on demand; waiting for it", pool.kind());
        logged = true;
      }
      next_ask = now + std::chrono::seconds(1);
    }
    if (pool.Pick().ok()) {
      if (logged) {
        spdlog::info("the {} worker is up after {:.2f} s", pool.kind(),
                     std::chrono::duration<double>(std::chrono::system_clock::now() - start).count());
      }
      return absl::OkStatus();
    }
    if (context.IsCancelled()) return absl::CancelledError("the client cancelled while the encoder started");
    if (std::chrono::system_clock::now() >= give_up) {
      if (give_up == deadline) {
        return absl::DeadlineExceededError(
            absl::StrCat("the request's deadline passed while the ", pool.kind(), " worker was starting"));
      }
      return absl::UnavailableError(absl::StrCat("the ", pool.kind(), " worker was started but did not come up within ",
                                                 kStartTimeout.count(), " s; serve's log says why"));
    }
  }
}

}  // namespace gemma3n
