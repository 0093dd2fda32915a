#include "tests/support/frozen_socket.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cstring>

#include "gtest/gtest.h"

namespace gemma3n::testing {

FrozenSocket::FrozenSocket(const std::string& address) {
  const std::string path = address.substr(5);  // "unix:PATH"
  fd_ = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof(addr.sun_path) - 1);
  EXPECT_EQ(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  EXPECT_EQ(listen(fd_, 16), 0);
}

FrozenSocket::~FrozenSocket() {
  if (fd_ >= 0) close(fd_);
}

}  // namespace gemma3n::testing
