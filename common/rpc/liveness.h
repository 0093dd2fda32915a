// Is a gRPC process alive and answering? A process can be up (its socket
// accepts connections) yet hung: stopped (SIGSTOP), deadlocked, swapped to
// a halt. Every one of our servers runs the standard health service on
// gRPC's own threads, so a live process answers it within milliseconds even
// while its compute threads are busy; one that does not answer within the
// probe deadline, several times in a row, is hung.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "grpcpp/channel.h"

namespace gemma3n {

enum class Liveness {
  kLive,          // the health service said SERVING
  kNotListening,  // nothing accepts connections (not started yet, or dead)
  kHung,          // connected or connecting, and no answer by the deadline
};

// The one rule for declaring a process hung, used by the gateway (to stop
// routing to it and fail its in-flight calls fast) and by `gemma3n serve`
// (to kill and restart it).
struct LivenessPolicy {
  std::chrono::milliseconds interval{1000};  // between probes of one process
  std::chrono::milliseconds deadline{2000};  // a probe's answer time
  int probes_to_declare_hung = 3;            // kHung this many times in a row
};

// One grpc.health.v1.Health/Check call (service "") on `channel` (to
// `address`: "unix:PATH" or "host:port") within `deadline`.
Liveness ProbeLiveness(const std::string& address, const std::shared_ptr<grpc::Channel>& channel,
                       std::chrono::milliseconds deadline);

// Consecutive kHung probes of one process -> hung or not, per the policy.
class HangDetector {
 public:
  explicit HangDetector(const LivenessPolicy& policy) : needed_(policy.probes_to_declare_hung) {}
  // Returns whether the process counts as hung after this probe.
  bool Observe(Liveness probe) {
    hung_in_a_row_ = probe == Liveness::kHung ? hung_in_a_row_ + 1 : 0;
    return hung();
  }
  bool hung() const { return hung_in_a_row_ >= needed_; }

 private:
  int needed_;
  int hung_in_a_row_ = 0;
};

// Probes each address per the policy on a thread of its own (a probe blocks
// up to the deadline) and reports each change of a target's state:
// on_change(index, hung). Stops (and joins) when destroyed.
class LivenessMonitor {
 public:
  LivenessMonitor(std::vector<std::string> addresses, const LivenessPolicy& policy,
                  std::function<void(size_t index, bool hung)> on_change);
  ~LivenessMonitor();
  LivenessMonitor(const LivenessMonitor&) = delete;
  LivenessMonitor& operator=(const LivenessMonitor&) = delete;

 private:
  void Run(const std::vector<std::string>& addresses, const LivenessPolicy& policy,
           const std::function<void(size_t, bool)>& on_change);
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace gemma3n
