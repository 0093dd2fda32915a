#include "common/rpc/liveness.h"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "common/rpc/server.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/support/byte_buffer.h"

namespace gemma3n {
namespace {

// Whether anything accepts connections at `address` ("unix:PATH" or
// "host:port"), at the socket level. A stopped process still does (the
// kernel completes the connection into its listen queue); a dead one, or one
// that has not bound its socket yet, does not.
bool SocketAccepts(const std::string& address, std::chrono::milliseconds timeout) {
  int fd = -1;
  bool connected = false;
  if (absl::StartsWith(address, "unix:")) {
    const std::string path = address.substr(5);
    sockaddr_un addr{};
    if (path.size() >= sizeof(addr.sun_path)) return false;
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path, path.data(), path.size());
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    // A full listen queue (EAGAIN) is a process that accepts nothing.
    connected = fd >= 0 && (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 || errno == EAGAIN);
  } else {
    const size_t colon = address.rfind(':');
    if (colon == std::string::npos) return true;  // a form we do not parse: let the gRPC probe decide
    std::string host = address.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    addrinfo hints{};
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), address.substr(colon + 1).c_str(), &hints, &found) != 0) return false;
    fd = socket(found->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0) {
      if (connect(fd, found->ai_addr, found->ai_addrlen) == 0) {
        connected = true;
      } else if (errno == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        int error = 0;
        socklen_t len = sizeof(error);
        connected = poll(&p, 1, static_cast<int>(timeout.count())) != 1 ||  // no answer in time: not refused
                    (getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &len) == 0 && error == 0);
      }
    }
    freeaddrinfo(found);
  }
  if (fd >= 0) close(fd);
  return connected;
}

}  // namespace

Liveness ProbeLiveness(const std::string& address, const std::shared_ptr<grpc::Channel>& channel,
                       std::chrono::milliseconds deadline) {
  // A generic call: the request HealthCheckRequest{service: ""} is empty on
  // the wire, so no health .proto is needed (Debian's gRPC ships none).
  grpc::GenericStub stub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + deadline);
  grpc::CompletionQueue cq;
  grpc::Slice empty;
  const grpc::ByteBuffer request(&empty, 1);
  std::unique_ptr<grpc::GenericClientAsyncResponseReader> call =
      stub.PrepareUnaryCall(&context, "/grpc.health.v1.Health/Check", request, &cq);
  call->StartCall();
  grpc::ByteBuffer response;
  grpc::Status status;
  call->Finish(&response, &status, reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  cq.Next(&tag, &ok);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  if (status.ok()) return Liveness::kLive;  // it answered (SERVING or not): the process runs
  // No answer: hung if something still takes connections there (a stopped
  // process never completes gRPC's handshake or answers), else not there.
  return SocketAccepts(address, deadline) ? Liveness::kHung : Liveness::kNotListening;
}

LivenessMonitor::LivenessMonitor(std::vector<std::string> addresses, const LivenessPolicy& policy,
                                 std::function<void(size_t, bool)> on_change)
    : thread_([this, addresses = std::move(addresses), policy, on_change = std::move(on_change)] {
        Run(addresses, policy, on_change);
      }) {}

LivenessMonitor::~LivenessMonitor() {
  stop_.store(true);
  thread_.join();
}

void LivenessMonitor::Run(const std::vector<std::string>& addresses, const LivenessPolicy& policy,
                          const std::function<void(size_t, bool)>& on_change) {
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (const std::string& a : addresses) channels.push_back(MakeChannel(a));
  std::vector<HangDetector> detectors(addresses.size(), HangDetector(policy));
  std::vector<bool> hung(addresses.size(), false);
  constexpr auto kStep = std::chrono::milliseconds(50);  // how soon a stop is seen while waiting
  while (!stop_.load()) {
    for (size_t i = 0; i < addresses.size() && !stop_.load(); ++i) {
      const bool now_hung = detectors[i].Observe(ProbeLiveness(addresses[i], channels[i], policy.deadline));
      if (now_hung == hung[i]) continue;
      hung[i] = now_hung;
      on_change(i, now_hung);
    }
    for (auto waited = std::chrono::milliseconds(0); waited < policy.interval && !stop_.load(); waited += kStep) {
      std::this_thread::sleep_for(kStep);
    }
  }
}

}  // namespace gemma3n
