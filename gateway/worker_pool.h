// The instances of one worker kind ("text", "vision", "audio") the gateway
// knows, spread over round-robin. An instance counts as up when its channel
// is connected or connects within a short probe; a dead instance is skipped,
// and when none is up the request fails fast with UNAVAILABLE naming the
// kind, instead of waiting on gRPC's reconnect back-off. With the liveness
// monitor on, an instance that stops answering its health checks (stopped,
// stuck: common/rpc/liveness.h) is skipped too, and its calls in flight are
// cut off, so their requests end UNAVAILABLE at once instead of waiting on
// a process that will not answer.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rpc/liveness.h"
#include "common/rpc/worker_channel.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace gemma3n {

// What the monitor knows of one instance, and the calls it has in flight.
class InstanceHealth {
 public:
  bool hung() const { return hung_.load(); }
  // Hung: every call in flight is cancelled. Not hung (answering again): new
  // calls go to it again.
  void SetHung(bool hung);
  void Add(grpc::ClientContext* call);
  void Remove(grpc::ClientContext* call);

 private:
  std::atomic<bool> hung_{false};
  std::mutex mu_;
  std::set<grpc::ClientContext*> calls_;
};

struct WorkerInstance {
  std::string address;
  std::shared_ptr<grpc::Channel> channel;
  std::shared_ptr<InstanceHealth> health = std::make_shared<InstanceHealth>();
};

// One call to an instance, known to its health while it runs. cut_off():
// the call was cancelled because the instance stopped answering.
class WorkerCall {
 public:
  WorkerCall(const WorkerInstance& worker, grpc::ClientContext* call);
  ~WorkerCall();
  WorkerCall(const WorkerCall&) = delete;
  WorkerCall& operator=(const WorkerCall&) = delete;
  bool cut_off() const { return health_->hung(); }

 private:
  std::shared_ptr<InstanceHealth> health_;
  grpc::ClientContext* call_;
};

// How long a pick waits for an instance's connection before passing it over.
inline constexpr std::chrono::milliseconds kDefaultConnectProbe{300};

class WorkerPool {
 public:
  WorkerPool(std::string kind, const std::vector<std::string>& addresses,
             std::chrono::milliseconds probe = kDefaultConnectProbe, const WorkerTls& tls = {});
  ~WorkerPool();  // stops the monitor

  // Probes every instance's health service on a thread of its own, per the
  // policy, until the pool is destroyed.
  void StartLivenessMonitor(const LivenessPolicy& policy);

  const std::string& kind() const { return kind_; }
  bool configured() const { return !instances_.empty(); }
  const std::vector<WorkerInstance>& instances() const { return instances_; }

  // The next instance that is up, starting after the last one picked and
  // skipping `exclude` (instances that already failed this request).
  // UNAVAILABLE "no <kind> worker is up (tried ...)" otherwise.
  absl::StatusOr<const WorkerInstance*> Pick(const std::vector<const WorkerInstance*>& exclude = {}) const;
  // Connected (or connecting within `probe`) and not known to be hung.
  static bool IsUp(const WorkerInstance& w, std::chrono::milliseconds probe);

 private:
  std::string kind_;
  std::vector<WorkerInstance> instances_;
  std::chrono::milliseconds probe_;
  mutable std::atomic<size_t> next_{0};
  std::unique_ptr<LivenessMonitor> monitor_;  // last: stopped before the instances go
};

}  // namespace gemma3n
