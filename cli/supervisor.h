// `gemma3n serve`'s process supervisor: starts each service as a child
// process, restarts one that dies (with back-off), and stops them all, in
// reverse start order, on SIGINT/SIGTERM. A child that cannot work at all is
// not restarted forever: exit code 2 (bad arguments or input, e.g. a bad
// checkpoint or an unusable address) or five failures in a row within 5 s
// of starting end the supervision with that reason.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/status.h"

namespace gemma3n {

struct ChildSpec {
  std::string name;               // for logs: "ple-service", "text-worker-0"...
  std::vector<std::string> argv;  // argv[0] = the binary's path
};

class Supervisor {
 public:
  // Blocks SIGINT, SIGTERM and SIGCHLD for the calling thread (call first).
  Supervisor();
  absl::Status Start(const ChildSpec& spec);
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
  };
  absl::Status Spawn(Child& c);
  void Reap();
  std::vector<Child> children_;
  absl::Status fatal_;
};

}  // namespace gemma3n
