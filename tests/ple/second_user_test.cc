// Another local user against a PLE service run by this one (root) on its
// default address: the second user (uid and gid 65534, "nobody") can neither
// open, remove nor pre-create our shared-memory segments (mode 0600, O_EXCL,
// a random part in the name), and squatting the name it can predict
// (/gemma3n-ple-<pid>-<next counter>) does the service no harm; nor can it
// enter the socket directory ($XDG_RUNTIME_DIR/gemma3n, mode 0700), connect
// to the service's socket or bind one beside it.
//
// Switching users needs root, as the tests run here and in CI. The checks as
// the second user run in a forked child of this multithreaded process (gRPC),
// so they use plain system calls only and report through a pipe.
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/ple/ple_test_util.h"
#include "tests/support/golden.h"

namespace gemma3n::ple {
namespace {

using testing::kTinyRowWidth;
using testing::ReferenceRows;
using testing::SegmentsOf;

constexpr uid_t kSecondUser = 65534;  // uid and gid

// The child's side: one line per failed check, written to the pipe.
class ChildReport {
 public:
  explicit ChildReport(int fd) : fd_(fd) {}
  // `rc` must be -1 with errno `want`: something the second user must not do.
  void Denied(int rc, int want, const char* call, const char* path) {
    const int err = errno;
    if (rc == -1 && err == want) return;
    Fail(call, path, rc == -1 ? ErrnoName(err) : "succeeded", ErrnoName(want));
  }
  // `rc` must be >= 0.
  void Succeeded(int rc, const char* call, const char* path) {
    if (rc < 0) Fail(call, path, ErrnoName(errno), "success");
  }
  void Fail(const char* call, const char* path, const char* got, const char* expected) {
    for (const char* s : {call, " ", path, ": ", got, ", expected ", expected, "\n"}) {
      if (::write(fd_, s, std::strlen(s)) < 0) break;
    }
    failed_ = true;
  }
  bool failed() const { return failed_; }
  static const char* ErrnoName(int err) {
    const char* name = ::strerrorname_np(err);
    return name ? name : "an unknown errno";
  }

 private:
  int fd_;
  bool failed_ = false;
};

// Runs `checks(report)` in a child that has dropped to the second user (no
// supplementary groups); returns what failed, "" when everything passed.
template <typename Checks>
std::string AsSecondUser(Checks checks) {
  int fds[2];
  if (::pipe(fds) != 0) return std::string("pipe: ") + std::strerror(errno);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    ChildReport report(fds[1]);
    if (::setgroups(0, nullptr) != 0) {
      report.Fail("setgroups", "(none)", ChildReport::ErrnoName(errno), "success");
    } else if (::setgid(kSecondUser) != 0) {
      report.Fail("setgid", "65534", ChildReport::ErrnoName(errno), "success");
    } else if (::setuid(kSecondUser) != 0) {
      report.Fail("setuid", "65534", ChildReport::ErrnoName(errno), "success");
    } else if (::geteuid() != kSecondUser || ::getegid() != kSecondUser) {
      report.Fail("drop to", "65534", "still another user", "uid and gid 65534");
    } else {
      checks(report);
    }
    ::_exit(report.failed() ? 1 : 0);
  }
  ::close(fds[1]);
  if (pid < 0) {
    ::close(fds[0]);
    return std::string("fork: ") + std::strerror(errno);
  }
  std::string out;
  char buf[512];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n > 0) out.append(buf, static_cast<size_t>(n));
    else if (errno != EINTR) break;
  }
  ::close(fds[0]);
  const int code = testing::Wait(pid);
  if (code != 0 && out.empty()) out = "the second user's child ended with code " + std::to_string(code);
  return out;
}

sockaddr_un UnixAddress(const char* path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path, sizeof addr.sun_path - 1);
  return addr;
}

// connect(2) to a unix socket: 0, or -1 with errno. Plain system calls, for the child too.
int ConnectUnix(const char* path) {
  const sockaddr_un addr = UnixAddress(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  const int err = errno;
  ::close(fd);
  errno = err;
  return rc;
}

int BindUnix(const char* path) {
  const sockaddr_un addr = UnixAddress(path);
  const int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  return ::bind(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr);  // the child exits soon
}

// "0600 uid 0", or why not.
std::string ModeAndOwner(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) return path + ": " + std::strerror(errno);
  char out[64];
  std::snprintf(out, sizeof out, "%04o uid %u", st.st_mode & 07777, st.st_uid);
  return out;
}

struct ParsedName {
  uint64_t counter;
  std::string random;  // 16 hex digits, "" when the name has none
};

// "gemma3n-ple-<pid>-<counter>[-<16 hex>]" of `pid`, or nothing.
std::optional<ParsedName> Parse(const std::string& file, pid_t pid) {
  static const std::regex kTail("-([0-9]+)(?:-([0-9a-f]{16}))?");
  const std::string prefix = "gemma3n-ple-" + std::to_string(pid);
  std::smatch m;
  const std::string rest = file.rfind(prefix, 0) == 0 ? file.substr(prefix.size()) : "";
  if (!std::regex_match(rest, m, kTail)) return std::nullopt;
  return ParsedName{std::stoull(m[1]), m[2]};
}

class SecondUserTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (::getuid() != 0) GTEST_SKIP() << "switching to a second user (uid 65534) needs root; run this test as root";
    runtime_ = ::testing::TempDir() + "second-user-" + std::to_string(::getpid());
    std::filesystem::remove_all(runtime_);
    ASSERT_TRUE(std::filesystem::create_directories(runtime_));
    // Open to everyone, so that what keeps the second user out is the
    // service's own directory inside it.
    ASSERT_EQ(::chmod(runtime_.c_str(), 0755), 0);
    socket_dir_ = runtime_ + "/gemma3n";
    socket_ = socket_dir_ + "/ple.sock";
    // No --listen: the default address in the private socket directory. A
    // umask of 0 leaves the socket file itself open to all, so that only the
    // directory keeps the second user out.
    const mode_t saved_umask = ::umask(0);
    service_ = testing::Spawn(GEMMA3N_PLE_SERVICE_BIN,
                              {"--model", gemma3n::testing::TinyModelDir(), "--log-level", "warn"},
                              {"XDG_RUNTIME_DIR=" + runtime_});
    ::umask(saved_umask);
    client_ = testing::ConnectWhenUp("unix:" + socket_, "root-client");
    ASSERT_TRUE(client_);
    ASSERT_EQ(SegmentsOf(service_).size(), 1u);
  }
  void TearDown() override {
    client_.reset();
    if (service_ > 0) {
      ::kill(service_, SIGTERM);
      testing::Wait(service_);
    }
    for (const std::string& name : squatted_) ::shm_unlink(name.c_str());
    if (!runtime_.empty()) std::filesystem::remove_all(runtime_);
  }

  std::string runtime_, socket_dir_, socket_;
  pid_t service_ = -1;
  std::shared_ptr<ShmPerLayerEmbeddings> client_;
  std::vector<std::string> squatted_;  // shm names the second user created
};

TEST_F(SecondUserTest, SegmentsAreTheServiceUsersOnlyAndTheirNamesHaveARandomPart) {
  auto second = testing::ConnectWhenUp("unix:" + socket_, "root-client-2");
  ASSERT_TRUE(second);
  const std::vector<std::string> files = SegmentsOf(service_);
  ASSERT_EQ(files.size(), 2u);
  std::set<std::string> random_parts;
  for (const std::string& file : files) {
    const std::optional<ParsedName> parsed = Parse(file, service_);
    ASSERT_TRUE(parsed) << file << " is not gemma3n-ple-<pid>-<counter>-<16 hex>";
    ASSERT_EQ(parsed->random.size(), 16u) << file << " has no random part";
    random_parts.insert(parsed->random);
    EXPECT_EQ(ModeAndOwner("/dev/shm/" + file), "0600 uid 0") << file;
  }
  EXPECT_EQ(random_parts.size(), 2u) << files[0] << " and " << files[1] << " share their random part";
}

TEST_F(SecondUserTest, SecondUserCanNeitherOpenNorRemoveNorCreateALiveSegment) {
  const std::string name = "/" + SegmentsOf(service_).at(0);
  const std::string file = "/dev/shm" + name;
  const std::string failed = AsSecondUser([&](ChildReport& r) {
    r.Denied(::shm_open(name.c_str(), O_RDWR, 0), EACCES, "shm_open O_RDWR", name.c_str());
    r.Denied(::shm_open(name.c_str(), O_RDONLY, 0), EACCES, "shm_open O_RDONLY", name.c_str());
    r.Denied(::open(file.c_str(), O_RDONLY), EACCES, "open O_RDONLY", file.c_str());
    r.Denied(::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600), EEXIST, "shm_open O_CREAT|O_EXCL",
             name.c_str());
    // The sticky /dev/shm (EPERM, which glibc's shm_unlink reports as EACCES).
    r.Denied(::shm_unlink(name.c_str()), EACCES, "shm_unlink", name.c_str());
  });
  EXPECT_EQ(failed, "");
  std::vector<float> rows(3 * kTinyRowWidth);
  ASSERT_TRUE(client_->Lookup({1, 2, 3}, rows.data()).ok());  // still served
  EXPECT_EQ(rows, ReferenceRows({1, 2, 3}));
}

TEST_F(SecondUserTest, SquattingThePredictableNameOfTheNextSegmentIsHarmless) {
  // Without the random part the next name would be <pid>-<next counter>: the
  // second user creates it first, open to all, as an attacker would.
  const std::vector<std::string> before = SegmentsOf(service_);
  const std::optional<ParsedName> last = Parse(before.at(0), service_);
  ASSERT_TRUE(last) << before[0];
  const uint64_t next = last->counter + 1;
  const std::string predicted = "/gemma3n-ple-" + std::to_string(service_) + "-" + std::to_string(next);
  squatted_.push_back(predicted);
  const std::string failed = AsSecondUser([&](ChildReport& r) {
    const int fd = ::shm_open(predicted.c_str(), O_CREAT | O_EXCL | O_RDWR, 0666);
    r.Succeeded(fd, "shm_open O_CREAT|O_EXCL", predicted.c_str());
    if (fd >= 0) r.Succeeded(::fchmod(fd, 0666), "fchmod 0666", predicted.c_str());
  });
  ASSERT_EQ(failed, "");
  ASSERT_EQ(ModeAndOwner("/dev/shm" + predicted), "0666 uid 65534");  // the squat is in place

  auto victim = testing::ConnectWhenUp("unix:" + socket_, "after-squat");
  ASSERT_TRUE(victim);
  std::vector<float> rows(4 * kTinyRowWidth);
  ASSERT_TRUE(victim->Lookup({0, 9, 300, 511}, rows.data()).ok());
  EXPECT_EQ(rows, ReferenceRows({0, 9, 300, 511}));

  // The service never touched the squatted file (still the second user's,
  // still empty); its segment is a new one of root's with the next counter.
  EXPECT_EQ(ModeAndOwner("/dev/shm" + predicted), "0666 uid 65534");
  EXPECT_EQ(std::filesystem::file_size("/dev/shm" + predicted), 0u) << "the service wrote into " << predicted;
  std::vector<std::string> added;
  for (const std::string& file : SegmentsOf(service_)) {
    if (file != before[0] && "/" + file != predicted) added.push_back(file);
  }
  ASSERT_EQ(added.size(), 1u) << "no new segment beside " << predicted << ": the service took the squatted one";
  const std::optional<ParsedName> parsed = Parse(added[0], service_);
  ASSERT_TRUE(parsed) << added[0];
  EXPECT_EQ(parsed->counter, next) << added[0];
  EXPECT_EQ(ModeAndOwner("/dev/shm/" + added[0]), "0600 uid 0") << added[0];
}

TEST_F(SecondUserTest, SecondUserCanNeitherEnterTheSocketDirectoryNorConnect) {
  // As root: the service listens on the default address, in a directory of its own.
  EXPECT_EQ(ModeAndOwner(socket_dir_), "0700 uid 0");
  struct stat sock;
  ASSERT_EQ(::stat(socket_.c_str(), &sock), 0) << socket_;
  EXPECT_TRUE(S_ISSOCK(sock.st_mode)) << socket_;
  EXPECT_EQ(ModeAndOwner(socket_), "0777 uid 0");  // the umask of 0: the file itself lets anyone connect
  EXPECT_EQ(ConnectUnix(socket_.c_str()), 0) << socket_ << ": " << std::strerror(errno);

  const std::string beside = socket_dir_ + "/text.sock";
  const std::string failed = AsSecondUser([&](ChildReport& r) {
    struct stat st;
    // Reaching the runtime directory is the test's setup; what follows is the 0700's doing.
    r.Succeeded(::stat(runtime_.c_str(), &st), "stat", runtime_.c_str());
    r.Denied(::open(socket_dir_.c_str(), O_RDONLY | O_DIRECTORY), EACCES, "open (list)", socket_dir_.c_str());
    r.Denied(::stat(socket_.c_str(), &st), EACCES, "stat", socket_.c_str());
    r.Denied(ConnectUnix(socket_.c_str()), EACCES, "connect", socket_.c_str());  // what gRPC's unix: does
    r.Denied(BindUnix(beside.c_str()), EACCES, "bind", beside.c_str());
  });
  EXPECT_EQ(failed, "");
}

}  // namespace
}  // namespace gemma3n::ple
