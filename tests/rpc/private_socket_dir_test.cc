// The default sockets live in a directory only this user can enter, so
// another local user can neither bind them first nor connect to them.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "common/rpc/server.h"
#include "gtest/gtest.h"

namespace gemma3n {
namespace {

class PrivateSocketDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = ::testing::TempDir() + "runtime-" + std::to_string(::getpid());
    std::filesystem::remove_all(root_);
    std::filesystem::create_directories(root_);
    ::setenv("XDG_RUNTIME_DIR", root_.c_str(), 1);
  }
  void TearDown() override {
    ::unsetenv("XDG_RUNTIME_DIR");
    std::filesystem::remove_all(root_);
  }
  std::string root_;
};

TEST_F(PrivateSocketDirTest, CreatedWithModeSevenHundredAndReused) {
  const auto dir = PrivateSocketDir();
  ASSERT_TRUE(dir.ok()) << dir.status();
  EXPECT_EQ(*dir, root_ + "/gemma3n");
  struct stat st;
  ASSERT_EQ(::lstat(dir->c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0700u);
  EXPECT_TRUE(PrivateSocketDir().ok());  // a second process finds it as is
  const auto address = DefaultServiceAddress("text");
  ASSERT_TRUE(address.ok());
  EXPECT_EQ(*address, "unix:" + root_ + "/gemma3n/text.sock");
}

TEST_F(PrivateSocketDirTest, OpenToOthersALinkOrAnotherUsersIsRefused) {
  const std::string dir = root_ + "/gemma3n";
  ASSERT_EQ(::mkdir(dir.c_str(), 0777), 0);
  ASSERT_EQ(::chmod(dir.c_str(), 0777), 0);
  auto refused = PrivateSocketDir();
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_NE(refused.status().message().find(dir), std::string::npos) << refused.status();

  ASSERT_EQ(::rmdir(dir.c_str()), 0);
  const std::string elsewhere = root_ + "/elsewhere";
  ASSERT_EQ(::mkdir(elsewhere.c_str(), 0700), 0);
  ASSERT_EQ(::symlink(elsewhere.c_str(), dir.c_str()), 0);
  EXPECT_EQ(PrivateSocketDir().status().code(), absl::StatusCode::kPermissionDenied);

  if (::getuid() == 0) {  // root can hand the directory to another user
    ASSERT_EQ(::unlink(dir.c_str()), 0);
    ASSERT_EQ(::mkdir(dir.c_str(), 0700), 0);
    ASSERT_EQ(::chown(dir.c_str(), 65534, 65534), 0);
    EXPECT_EQ(PrivateSocketDir().status().code(), absl::StatusCode::kPermissionDenied);
  }
}

}  // namespace
}  // namespace gemma3n
