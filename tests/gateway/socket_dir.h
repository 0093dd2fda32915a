// A private temporary directory for the unix sockets of in-process gRPC
// servers in a test; removed with everything in it at the end.
#pragma once

#include <string>

namespace gemma3n::testing {

class SocketDir {
 public:
  SocketDir();
  ~SocketDir();
  SocketDir(const SocketDir&) = delete;
  SocketDir& operator=(const SocketDir&) = delete;

  // "unix:DIR/NAME.sock" (nothing listens there until a server does).
  std::string Address(const std::string& name) const;

 private:
  std::string path_;
};

}  // namespace gemma3n::testing
