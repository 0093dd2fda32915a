// Polling for a condition another thread brings about, with a bound, for
// tests of concurrent code.
#pragma once

#include <chrono>
#include <thread>

namespace gemma3n::testing {

// Polls `done` every 5 ms; false when it is still false after `patience`.
template <typename F>
bool Eventually(F done, std::chrono::milliseconds patience = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

}  // namespace gemma3n::testing
