// The instances of one worker kind ("text", "vision", "audio") the gateway
// knows, spread over round-robin. An instance counts as up when its channel
// is connected or connects within a short probe; a dead instance is skipped,
// and when none is up the request fails fast with UNAVAILABLE naming the
// kind, instead of waiting on gRPC's reconnect back-off.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/channel.h"

namespace gemma3n {

struct WorkerInstance {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
};

class WorkerPool {
 public:
  WorkerPool(std::string kind, const std::vector<std::string>& addresses,
             std::chrono::milliseconds probe = std::chrono::milliseconds(300));

  const std::string& kind() const { return kind_; }
  bool configured() const { return !instances_.empty(); }
  const std::vector<WorkerInstance>& instances() const { return instances_; }

  // The next instance that is up, starting after the last one picked and
  // skipping `exclude` (instances that already failed this request).
  // UNAVAILABLE "no <kind> worker is up (tried ...)" otherwise.
  absl::StatusOr<const WorkerInstance*> Pick(const std::vector<const WorkerInstance*>& exclude = {}) const;
  // Without connecting: is the channel ready right now?
  static bool IsUp(const WorkerInstance& w, std::chrono::milliseconds probe);

 private:
  std::string kind_;
  std::vector<WorkerInstance> instances_;
  std::chrono::milliseconds probe_;
  mutable std::atomic<size_t> next_{0};
};

}  // namespace gemma3n
