// A worker that stops itself after a stretch without requests (an encoder
// `gemma3n serve --encoders on-demand` started for the first image or audio
// part): after `limit` with no request running or arriving it logs why and
// raises SIGTERM in its own process, so it stops as on `kill`, cleanly, and
// its memory goes back to the system. Exit code 0 tells serve it was idle.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

namespace gemma3n {

class IdleExit {
 public:
  // limit 0: never (the thread is not started).
  IdleExit(std::chrono::milliseconds limit, std::string component);
  ~IdleExit();
  IdleExit(const IdleExit&) = delete;
  IdleExit& operator=(const IdleExit&) = delete;

  // Held while a request runs: a busy worker is never idle.
  class Busy {
   public:
    explicit Busy(IdleExit& idle) : idle_(idle) { idle_.Enter(); }
    ~Busy() { idle_.Leave(); }
    Busy(const Busy&) = delete;
    Busy& operator=(const Busy&) = delete;

   private:
    IdleExit& idle_;
  };

 private:
  void Enter();
  void Leave();
  void Watch();

  const std::chrono::milliseconds limit_;
  const std::string component_;
  std::mutex mu_;
  std::condition_variable changed_;
  int running_ = 0;
  std::chrono::steady_clock::time_point last_ = std::chrono::steady_clock::now();
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace gemma3n
