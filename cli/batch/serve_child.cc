#include "cli/batch/serve_child.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"

namespace gemma3n::batch {
namespace {

// A loopback port nobody listens on now (the kernel's pick for port 0).
absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError("socket() failed");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  close(fd);
  if (!ok) return absl::InternalError("no free loopback port");
  return static_cast<int>(ntohs(addr.sin_port));
}

std::string SelfBinary() {
  std::error_code ec;
  const auto self = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::string("gemma3n") : self.string();
}

bool LogSaysReady(const std::string& log_path) {
  std::ifstream log(log_path);
  std::string line;
  while (std::getline(log, line)) {
    if (line.rfind("gemma3n serve: ready", 0) == 0) return true;
  }
  return false;
}

void StopChild(pid_t pid) {
  if (pid <= 0) return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 200; ++i) {
    if (waitpid(pid, nullptr, WNOHANG) == pid) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
}

}  // namespace

absl::StatusOr<ServeChild> ServeChild::Start(const std::string& model, const std::vector<std::string>& extra_flags,
                                             const std::string& log_path, std::chrono::seconds timeout) {
  ASSIGN_OR_RETURN(const int port, FreeLoopbackPort());
  ASSIGN_OR_RETURN(const std::string dir, PrivateSocketDir());
  const std::string http = absl::StrCat("127.0.0.1:", port);
  std::vector<std::string> argv = {SelfBinary(), "serve", "--model", model, "--http", http, "--listen",
                                   absl::StrCat("unix:", dir, "/batch-", getpid(), ".sock")};
  argv.insert(argv.end(), extra_flags.begin(), extra_flags.end());
  const int log_fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (log_fd < 0) return absl::PermissionDeniedError(absl::StrCat("cannot write the serve log ", log_path));
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    close(log_fd);
    return absl::InternalError("fork failed");
  }
  if (pid == 0) {
    prctl(PR_SET_PDEATHSIG, SIGTERM);  // the batch killed: serve stops too
    if (getppid() != parent) _exit(1);
    dup2(log_fd, STDOUT_FILENO);
    dup2(log_fd, STDERR_FILENO);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    std::vector<char*> cargv;
    for (std::string& a : argv) cargv.push_back(a.data());
    cargv.push_back(nullptr);
    execv(cargv[0], cargv.data());
    _exit(127);
  }
  close(log_fd);
  ServeChild child(pid, "http://" + http);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    int wstatus = 0;
    if (waitpid(pid, &wstatus, WNOHANG) == pid) {
      child.pid_ = -1;
      return absl::FailedPreconditionError(
          absl::StrCat("gemma3n serve exited (status ", wstatus, ") before it was ready; see ", log_path));
    }
    // serve says so once every service (the gateway and its HTTP API, the
    // workers) accepts connections.
    if (LogSaysReady(log_path)) return child;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("gemma3n serve was not ready after ", timeout.count(), " s; see ", log_path));
}

ServeChild::ServeChild(ServeChild&& other) noexcept : pid_(other.pid_), url_(std::move(other.url_)) {
  other.pid_ = -1;
}

ServeChild::~ServeChild() { StopChild(pid_); }

}  // namespace gemma3n::batch
