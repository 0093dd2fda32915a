// A unix socket listened on and never accepted from or answered: what a
// stopped (SIGSTOP) server looks like from outside — the kernel takes the
// connection, nobody answers. Closed when destroyed.
#pragma once

#include <string>

namespace gemma3n::testing {

class FrozenSocket {
 public:
  explicit FrozenSocket(const std::string& address);  // "unix:PATH"
  ~FrozenSocket();
  FrozenSocket(const FrozenSocket&) = delete;
  FrozenSocket& operator=(const FrozenSocket&) = delete;

 private:
  int fd_ = -1;
};

}  // namespace gemma3n::testing
