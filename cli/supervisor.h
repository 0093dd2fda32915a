// `gemma3n serve`'s process supervisor: starts each service as a child
// process, restarts one that dies (with back-off), and stops them all, in
// reverse start order, on SIGINT/SIGTERM. A child that cannot work at all is
// not restarted forever: exit code 2 (bad arguments or input, e.g. a bad
// checkpoint or an unusable address) or five failures in a row within 5 s
// of starting end the supervision with that reason. A child with a health
// address that stops answering its health checks (stopped, deadlocked: see
// common/rpc/liveness.h) is killed, and so restarted like a crashed one.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rpc/liveness.h"

namespace gemma3n {

struct ChildSpec {
  std::string name;               // for logs: "ple-service", "text-worker-0"...
  std::vector<std::string> argv;  // argv[0] = the binary's path
  std::string health_address;     // its gRPC address, probed for liveness; "" = not probed
  // Started only when asked (Demand), e.g. an encoder for the first image.
  // It stops itself when idle (exit code 0) and then waits for the next
  // Demand; a failure to start ends only it, not the supervision.
  bool on_demand = false;
};

class Supervisor {
 public:
  // Blocks SIGINT, SIGTERM and SIGCHLD for the calling thread (call first).
  explicit Supervisor(LivenessPolicy liveness = RestartLivenessPolicy());
  // Starts the child now, or for an on-demand one, only registers it.
  absl::Status Start(const ChildSpec& spec);
  // From any thread, once Run is running: start the on-demand child `name`
  // if it is not running. Returns whether it was; NOT_FOUND for no such
  // on-demand child; FAILED_PRECONDITION with the reason when it failed to
  // start within the last 30 s (a later Demand tries again).
  absl::StatusOr<bool> Demand(const std::string& name);
  // Runs until SIGINT/SIGTERM (OK) or a child that cannot work (the
  // reason): reaps children and restarts those that died. `on_tick` runs
  // about every 200 ms (e.g. to announce readiness once).
  absl::Status Run(const std::function<void()>& on_tick);
  // SIGTERM to every child (last started first), SIGKILL after `grace`.
  void StopAll(std::chrono::milliseconds grace);

 private:
  struct Child {
    ChildSpec spec;
    pid_t pid = -1;
    int restarts = 0;
    std::chrono::steady_clock::time_point started;
    std::chrono::steady_clock::time_point restart_at;  // when pid < 0
    std::chrono::milliseconds backoff{500};
    int quick_failures = 0;  // in a row, each within 5 s of starting
    // Set by the liveness monitor when the child is hung; the supervision
    // loop kills it.
    std::shared_ptr<std::atomic<bool>> hung = std::make_shared<std::atomic<bool>>(false);
    // What Demand shares with the supervision loop.
    struct OnDemand {
      std::atomic<bool> requested{false};
      std::atomic<bool> running{false};
      std::mutex mu;
      std::string failure;  // why the last start failed; "" = none
      std::chrono::steady_clock::time_point failed_at;
    };
    std::shared_ptr<OnDemand> demand = std::make_shared<OnDemand>();
  };
  // An on-demand child's exit: stopped when idle (0), failed for good
  // (code 2, or five quick failures), or crashed (restarted). Returns
  // whether it was handled here.
  bool OnDemandExited(Child& c, int status, const std::string& how);
  void KillHungChildren();
  absl::Status Spawn(Child& c);
  void Reap();
  const LivenessPolicy liveness_;
  std::vector<Child> children_;
  absl::Status fatal_;
};

}  // namespace gemma3n
