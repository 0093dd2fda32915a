#include "tests/gateway/socket_dir.h"

#include <stdlib.h>

#include <filesystem>

#include "gtest/gtest.h"

namespace gemma3n::testing {

SocketDir::SocketDir() {
  // Short: a unix socket path must fit in 108 bytes.
  char tmpl[] = "/tmp/gemma3n-test-XXXXXX";
  if (mkdtemp(tmpl) == nullptr) ADD_FAILURE() << "cannot create a directory under /tmp";
  path_ = tmpl;
}

SocketDir::~SocketDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string SocketDir::Address(const std::string& name) const { return "unix:" + path_ + "/" + name + ".sock"; }

}  // namespace gemma3n::testing
