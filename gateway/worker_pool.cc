#include "gateway/worker_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/server.h"
#include "common/rpc/worker_channel.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

void InstanceHealth::SetHung(bool hung) {
  std::lock_guard<std::mutex> lock(mu_);
  hung_.store(hung);
  if (hung) {
    for (grpc::ClientContext* call : calls_) call->TryCancel();
  }
}

void InstanceHealth::Add(grpc::ClientContext* call) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.insert(call);
  if (hung_.load()) call->TryCancel();  // marked hung between Pick and the call
}

void InstanceHealth::Remove(grpc::ClientContext* call) {
  std::lock_guard<std::mutex> lock(mu_);
  calls_.erase(call);
}

WorkerCall::WorkerCall(const WorkerInstance& worker, grpc::ClientContext* call)
    : health_(worker.health), call_(call) {
  health_->Add(call_);
}

WorkerCall::~WorkerCall() { health_->Remove(call_); }

WorkerPool::WorkerPool(std::string kind, const std::vector<std::string>& addresses,
                       std::chrono::milliseconds probe, const WorkerTls& tls)
    : kind_(std::move(kind)), probe_(probe) {
  for (const std::string& a : addresses) instances_.push_back({a, MakeWorkerChannel(a, tls)});
}

WorkerPool::~WorkerPool() = default;

void WorkerPool::StartLivenessMonitor(const LivenessPolicy& policy) {
  if (monitor_) return;
  // One process per address is probed here; the instances behind a
  // balanced name are checked by gRPC itself (health checking, keepalive).
  std::vector<std::string> addresses;
  std::vector<size_t> monitored;  // index in instances_ of each address probed
  for (size_t i = 0; i < instances_.size(); ++i) {
    if (IsBalancedTarget(instances_[i].address)) continue;
    addresses.push_back(instances_[i].address);
    monitored.push_back(i);
  }
  if (addresses.empty()) return;
  monitor_ = std::make_unique<LivenessMonitor>(std::move(addresses), policy, [this, monitored](size_t i, bool hung) {
    const WorkerInstance& w = instances_[monitored[i]];
    if (hung) {
      spdlog::error("{} worker {} has stopped answering its health checks: no more requests go to it, and those "
                    "it has end UNAVAILABLE",
                    kind_, w.address);
    } else {
      spdlog::info("{} worker {} answers its health checks again", kind_, w.address);
    }
    w.health->SetHung(hung);
  });
}

bool WorkerPool::IsUp(const WorkerInstance& w, std::chrono::milliseconds probe) {
  if (w.health->hung()) return false;
  if (w.channel->GetState(/*try_to_connect=*/true) == GRPC_CHANNEL_READY) return true;
  return w.channel->WaitForConnected(std::chrono::system_clock::now() + probe);
}

absl::StatusOr<const WorkerInstance*> WorkerPool::Pick(const std::vector<const WorkerInstance*>& exclude) const {
  if (instances_.empty()) {
    return absl::UnavailableError(absl::StrCat("no ", kind_, " worker is configured for this gateway"));
  }
  const size_t start = next_.fetch_add(1);
  std::vector<std::string> tried;
  for (size_t i = 0; i < instances_.size(); ++i) {
    const WorkerInstance& w = instances_[(start + i) % instances_.size()];
    if (std::find(exclude.begin(), exclude.end(), &w) != exclude.end()) {
      tried.push_back(w.address + " (failed)");
      continue;
    }
    if (IsUp(w, probe_)) return &w;
    tried.push_back(w.address + (w.health->hung() ? " (not answering)" : " (down)"));
  }
  return absl::UnavailableError(
      absl::StrCat("no ", kind_, " worker is up (tried ", absl::StrJoin(tried, ", "), "); retry later"));
}

}  // namespace gemma3n
