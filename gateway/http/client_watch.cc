#include "gateway/http/client_watch.h"

#include <dirent.h>
#include <netdb.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include "spdlog/spdlog.h"

namespace gemma3n::http {

namespace {

// The numeric host and port of an address, as cpp-httplib writes remote_addr.
bool HostPort(const sockaddr_storage& addr, socklen_t len, std::string& host, int& port) {
  char h[NI_MAXHOST], p[NI_MAXSERV];
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, h, sizeof h, p, sizeof p,
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return false;
  }
  host = h;
  port = std::atoi(p);
  return true;
}

}  // namespace

int FindConnection(int local_port, const std::string& remote_addr, int remote_port) {
  DIR* dir = opendir("/proc/self/fd");
  if (!dir) return -1;
  int found = -1;
  while (dirent* e = readdir(dir)) {
    char* end = nullptr;
    const long fd = std::strtol(e->d_name, &end, 10);
    if (end == e->d_name || *end != '\0' || fd == dirfd(dir)) continue;
    struct stat st;
    if (fstat(static_cast<int>(fd), &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof local, peer_len = sizeof peer;
    std::string host, peer_host;
    int port = 0, peer_port = 0;
    if (getsockname(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&local), &local_len) != 0 ||
        !HostPort(local, local_len, host, port) || port != local_port) {
      continue;
    }
    if (getpeername(static_cast<int>(fd), reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0 ||
        !HostPort(peer, peer_len, peer_host, peer_port) || peer_port != remote_port || peer_host != remote_addr) {
      continue;
    }
    found = static_cast<int>(fd);
    break;
  }
  closedir(dir);
  return found;
}

ClientWatch::ClientWatch(int local_port, const std::string& remote_addr, int remote_port,
                         std::function<void()> on_gone)
    : on_gone_(std::move(on_gone)) {
  socket_ = FindConnection(local_port, remote_addr, remote_port);
  if (socket_ < 0) {
    spdlog::debug("http: no socket found for {}:{}; a hang-up will be noticed at the next write", remote_addr,
                  remote_port);
    return;
  }
  wake_ = eventfd(0, EFD_CLOEXEC);
  if (wake_ < 0) {
    socket_ = -1;
    return;
  }
  thread_ = std::thread([this] { Run(); });
}

void ClientWatch::Run() {
  // POLLRDHUP only (not POLLIN): a pipelined next request does not wake us.
  pollfd fds[2] = {{socket_, POLLRDHUP, 0}, {wake_, POLLIN, 0}};
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      return;
    }
    if (fds[1].revents) return;
    if (fds[0].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
      gone_ = true;
      on_gone_();
      return;
    }
  }
}

ClientWatch::~ClientWatch() {
  if (thread_.joinable()) {
    const uint64_t one = 1;
    if (write(wake_, &one, sizeof one) < 0) spdlog::warn("http: cannot wake the client watch");
    thread_.join();
  }
  if (wake_ >= 0) close(wake_);
}

}  // namespace gemma3n::http
