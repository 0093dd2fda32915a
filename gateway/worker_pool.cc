#include "gateway/worker_pool.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "common/rpc/server.h"

namespace gemma3n {

WorkerPool::WorkerPool(std::string kind, const std::vector<std::string>& addresses,
                       std::chrono::milliseconds probe)
    : kind_(std::move(kind)), probe_(probe) {
  for (const std::string& a : addresses) instances_.push_back({a, MakeChannel(a)});
}

bool WorkerPool::IsUp(const WorkerInstance& w, std::chrono::milliseconds probe) {
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
    tried.push_back(w.address + " (down)");
  }
  return absl::UnavailableError(
      absl::StrCat("no ", kind_, " worker is up (tried ", absl::StrJoin(tried, ", "), "); retry later"));
}

}  // namespace gemma3n
