#include "common/serving/idle_exit.h"

#include <signal.h>
#include <unistd.h>

#include "spdlog/spdlog.h"

namespace gemma3n {

IdleExit::IdleExit(std::chrono::milliseconds limit, std::string component)
    : limit_(limit), component_(std::move(component)) {
  if (limit_.count() > 0) thread_ = std::thread([this] { Watch(); });
}

IdleExit::~IdleExit() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void IdleExit::Enter() {
  std::lock_guard<std::mutex> lock(mu_);
  ++running_;
}

void IdleExit::Leave() {
  std::lock_guard<std::mutex> lock(mu_);
  --running_;
  last_ = std::chrono::steady_clock::now();
}

void IdleExit::Watch() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    const auto due = last_ + limit_;
    changed_.wait_until(lock, due, [&] { return stop_; });
    if (stop_) return;
    if (running_ == 0 && std::chrono::steady_clock::now() >= last_ + limit_) break;
    if (running_ > 0) last_ = std::chrono::steady_clock::now();  // look again a full limit after now
  }
  spdlog::info("{} idle for {} s: stopping (started again when needed)", component_,
               std::chrono::duration_cast<std::chrono::seconds>(limit_).count());
  kill(getpid(), SIGTERM);  // the shutdown path of every service (WaitForShutdownSignal)
}

}  // namespace gemma3n
