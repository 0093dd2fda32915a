#include "cli/supervisor.h"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

// The shutdown signals, and SIGCHLD to notice a child's death.
sigset_t SupervisedSignals() {
  sigset_t set = ShutdownSignals();
  sigaddset(&set, SIGCHLD);
  return set;
}

// Why a child that exited cannot work at all and is not to be restarted:
// exit code 2 (bad arguments or input) or five quick failures in a row;
// "" when it may be restarted.
std::string CannotWork(const std::string& name, int status, const std::string& how, int quick_failures) {
  if (WIFEXITED(status) && WEXITSTATUS(status) == 2) return absl::StrCat(name, " ", how, " (bad arguments or input)");
  if (quick_failures >= 5) return absl::StrCat(name, " ", how, " five times in a row at start");
  return "";
}

}  // namespace

Supervisor::Supervisor(LivenessPolicy liveness) : liveness_(liveness) {
  const sigset_t set = SupervisedSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

absl::Status Supervisor::Spawn(Child& c) {
  std::vector<char*> argv;
  for (std::string& a : c.spec.argv) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) return absl::InternalError(absl::StrCat("fork for ", c.spec.name, ": ", std::strerror(errno)));
  if (pid == 0) {
    // The child: default signal mask, and die with the supervisor even if it
    // is killed with SIGKILL (no orphaned workers holding sockets).
    const sigset_t set = SupervisedSignals();
    pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != parent) _exit(1);
    execv(argv[0], argv.data());
    std::fprintf(stderr, "gemma3n serve: cannot run %s: %s\n", argv[0], std::strerror(errno));
    _exit(127);
  }
  c.pid = pid;
  c.demand->running = true;
  c.started = std::chrono::steady_clock::now();
  spdlog::info("started {} (pid {})", c.spec.name, pid);
  return absl::OkStatus();
}

absl::Status Supervisor::Start(const ChildSpec& spec) {
  if (access(spec.argv.at(0).c_str(), X_OK) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot run ", spec.argv[0], " (build it first)"));
  }
  Child c;
  c.spec = spec;
  if (on_start_) RETURN_IF_ERROR(on_start_(c.spec));
  children_.push_back(std::move(c));
  if (spec.on_demand) {
    children_.back().restart_at = std::chrono::steady_clock::time_point::max();  // until asked
    spdlog::info("{} starts on demand", spec.name);
    return absl::OkStatus();
  }
  return Spawn(children_.back());
}

absl::StatusOr<bool> Supervisor::Demand(const std::string& name) {
  for (Child& c : children_) {  // the list does not change once Run runs
    if (c.spec.name != name || !c.spec.on_demand) continue;
    Child::OnDemand& d = *c.demand;
    {
      std::lock_guard<std::mutex> lock(d.mu);
      if (!d.failure.empty()) {
        if (std::chrono::steady_clock::now() - d.failed_at < std::chrono::seconds(30)) {
          return absl::FailedPreconditionError(d.failure);
        }
        d.failure.clear();
      }
    }
    const bool running = d.running.load();
    if (!running) d.requested = true;
    return running;
  }
  return absl::NotFoundError(absl::StrCat("this serve runs no ", name, " on demand"));
}

bool Supervisor::OnDemandExited(Child& c, int status, const std::string& how) {
  if (!c.spec.on_demand) return false;
  const std::string cannot_work = CannotWork(c.spec.name, status, how, c.quick_failures);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
    spdlog::info("{} stopped (idle); it starts again on the next request that needs it", c.spec.name);
  } else if (!cannot_work.empty()) {
    const std::string reason = absl::StrCat(cannot_work, "; serve's log says why");
    spdlog::error("{}; not restarting it until it is needed again", reason);
    std::lock_guard<std::mutex> lock(c.demand->mu);
    c.demand->failure = reason;
    c.demand->failed_at = std::chrono::steady_clock::now();
    c.quick_failures = 0;
  } else {
    return false;  // a crash: restarted as any child is
  }
  c.pid = -1;
  c.demand->running = false;
  c.demand->requested = false;
  c.restart_at = std::chrono::steady_clock::time_point::max();
  return true;
}

void Supervisor::SetHooks(std::function<absl::Status(ChildSpec&)> on_start,
                          std::function<void(const std::string&)> on_restart) {
  on_start_ = std::move(on_start);
  on_restart_ = std::move(on_restart);
}

void Supervisor::Reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    for (Child& c : children_) {
      if (c.pid != pid) continue;
      const auto now = std::chrono::steady_clock::now();
      // A child that ran a while gets a fresh back-off; one that keeps
      // crashing at start waits longer each time (up to 10 s).
      if (now - c.started > std::chrono::seconds(30)) c.backoff = std::chrono::milliseconds(500);
      const std::string how = WIFSIGNALED(status) ? absl::StrCat("killed by signal ", WTERMSIG(status))
                                                  : absl::StrCat("exited with code ", WEXITSTATUS(status));
      c.quick_failures = now - c.started < std::chrono::seconds(5) ? c.quick_failures + 1 : 0;
      if (OnDemandExited(c, status, how)) continue;
      if (const std::string cannot_work = CannotWork(c.spec.name, status, how, c.quick_failures);
          !cannot_work.empty()) {
        fatal_ = absl::FailedPreconditionError(
            absl::StrCat(cannot_work, "; not restarting it: its log lines above say why"));
        c.pid = -1;
        c.restart_at = std::chrono::steady_clock::time_point::max();
        continue;
      }
      spdlog::warn("{} (pid {}) {}; restarting in {} ms", c.spec.name, pid, how, c.backoff.count());
      c.pid = -1;
      c.demand->running = false;
      c.restart_at = now + c.backoff;
      c.backoff = std::min(c.backoff * 2, std::chrono::milliseconds(10000));
    }
  }
}

void Supervisor::KillHungChildren() {
  for (Child& c : children_) {
    if (!c.hung->exchange(false) || c.pid <= 0) continue;
    const auto silent = liveness_.probes_to_declare_hung * (liveness_.interval + liveness_.deadline);
    spdlog::error("{} (pid {}) has not answered its health checks for about {} s (stopped or stuck): killing it",
                  c.spec.name, c.pid, std::chrono::duration_cast<std::chrono::seconds>(silent).count());
    kill(c.pid, SIGKILL);  // reaped and restarted below, as a crash is
  }
}

absl::Status Supervisor::Run(const std::function<void()>& on_tick) {
  const sigset_t set = SupervisedSignals();
  // Children with a health address, probed while the supervision runs; a
  // hung one is flagged for the loop below to kill.
  std::vector<std::string> addresses;
  std::vector<std::shared_ptr<std::atomic<bool>>> flags;
  for (const Child& c : children_) {
    if (c.spec.health_address.empty()) continue;
    addresses.push_back(c.spec.health_address);
    flags.push_back(c.hung);
  }
  const LivenessMonitor monitor(std::move(addresses), liveness_, [flags](size_t i, bool hung) {
    if (hung) flags[i]->store(true);
  });
  for (;;) {
    timespec timeout{0, 200 * 1000 * 1000};
    const int sig = sigtimedwait(&set, nullptr, &timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      spdlog::info("signal {}: stopping all services", sig);
      return absl::OkStatus();
    }
    KillHungChildren();
    Reap();
    if (!fatal_.ok()) {
      spdlog::error("{}; stopping all services", std::string(fatal_.message()));
      return fatal_;
    }
    const auto now = std::chrono::steady_clock::now();
    for (Child& c : children_) {
      if (c.pid >= 0) continue;
      if (c.spec.on_demand && c.restart_at == std::chrono::steady_clock::time_point::max() &&
          c.demand->requested.exchange(false)) {
        spdlog::info("starting {}: a request needs it", c.spec.name);
        if (absl::Status s = Spawn(c); !s.ok()) spdlog::error("{}", s.ToString());
      } else if (now >= c.restart_at) {
        ++c.restarts;
        if (on_restart_) on_restart_(c.spec.name);
        if (absl::Status s = Spawn(c); !s.ok()) spdlog::error("{}", s.ToString());
      }
    }
    if (on_tick) on_tick();
  }
}

void Supervisor::StopAll(std::chrono::milliseconds grace) {
  for (auto it = children_.rbegin(); it != children_.rend(); ++it) {
    if (it->pid > 0) kill(it->pid, SIGTERM);
  }
  const auto deadline = std::chrono::steady_clock::now() + grace;
  for (Child& c : children_) {
    while (c.pid > 0) {
      int status = 0;
      const pid_t r = waitpid(c.pid, &status, WNOHANG);
      if (r == c.pid || (r < 0 && errno == ECHILD)) {
        c.pid = -1;
        break;
      }
      if (std::chrono::steady_clock::now() > deadline) {
        spdlog::warn("{} did not stop in time: killing it", c.spec.name);
        kill(c.pid, SIGKILL);
        waitpid(c.pid, &status, 0);
        c.pid = -1;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
}

}  // namespace gemma3n
