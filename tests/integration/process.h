// Child processes for the integration tests: the real binaries, started with
// their output in a log file, stopped (and reaped) when the test ends.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <string>
#include <vector>

namespace gemma3n::testing {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(std::vector<std::string> argv, std::string log_path);
  ~ChildProcess();  // SIGTERM, then SIGKILL after 5 s
  ChildProcess(ChildProcess&& other) noexcept;
  ChildProcess& operator=(ChildProcess&& other) noexcept;

  pid_t pid() const { return pid_; }
  void Signal(int sig) const;
  // Waits for the exit; returns the wait status, or -1 on timeout.
  int Wait(std::chrono::milliseconds timeout);
  std::string Log() const;

 private:
  pid_t pid_ = -1;
  std::string log_path_;
};

std::string BinDir();                 // where the built binaries are
int FreeTcpPort();
// Polls `done` every 50 ms until true or the timeout; returns the last value.
bool WaitUntil(const std::function<bool()>& done, std::chrono::milliseconds timeout);
// Direct children of `pid` whose command line contains `needle`.
std::vector<pid_t> ChildrenMatching(pid_t pid, const std::string& needle);
std::string TempDir(const std::string& tag);  // fresh, per process

}  // namespace gemma3n::testing
