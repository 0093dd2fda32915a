#include "ple_service/client/shm_per_layer_embeddings.h"

#include <semaphore.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/rpc/status.h"
#include "common/status/status_macros.h"
#include "common/process/process_alive.h"
#include "ple_service/shm_protocol.h"
#include "spdlog/spdlog.h"

namespace gemma3n {
namespace {

static_assert(sizeof(int) == sizeof(int32_t), "ids travel as int32");

using Clock = std::chrono::steady_clock;

// CLOCK_MONOTONIC now + d, for sem_clockwait (immune to wall-clock jumps).
timespec MonotonicAfter(std::chrono::milliseconds d) {
  timespec ts;
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  const int64_t ns = ts.tv_nsec + std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  ts.tv_sec += ns / 1000000000;
  ts.tv_nsec = ns % 1000000000;
  return ts;
}

void SetDeadline(grpc::ClientContext& context, std::chrono::milliseconds d) {
  context.set_deadline(std::chrono::system_clock::now() + d);
}

// For "unix:PATH" (or "unix://PATH"): OK when something accepts connections
// there, else why not. Other addresses: OK (no probe).
absl::Status ProbeUnixSocket(const std::string& address) {
  if (!absl::StartsWith(address, "unix:")) return absl::OkStatus();
  std::string path = address.substr(5);
  if (absl::StartsWith(path, "//")) path = path.substr(2);
  sockaddr_un sa{};
  if (path.empty() || path.size() >= sizeof(sa.sun_path)) return absl::OkStatus();  // let gRPC say why
  sa.sun_family = AF_UNIX;
  std::memcpy(sa.sun_path, path.data(), path.size());
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return absl::OkStatus();
  const int rc = ::connect(fd, reinterpret_cast<const sockaddr*>(&sa), sizeof(sa));
  const int err = errno;
  ::close(fd);
  if (rc == 0) return absl::OkStatus();
  return absl::UnavailableError(absl::StrCat("nothing listens on ", path, ": ", std::strerror(err)));
}

}  // namespace

ShmPerLayerEmbeddings::ShmPerLayerEmbeddings(std::string address, std::string client_name, int max_tokens,
                                             int64_t row_width, ShmPleClientOptions options)
    : address_(std::move(address)),
      client_name_(std::move(client_name)),
      max_tokens_(max_tokens),
      row_width_(row_width),
      options_(options),
      stub_(internal::v1::PleService::NewStub(MakeChannel(address_))) {}

absl::StatusOr<std::shared_ptr<ShmPerLayerEmbeddings>> ShmPerLayerEmbeddings::Connect(
    const std::string& address, const std::string& client_name, int max_tokens, int64_t expected_row_width,
    ShmPleClientOptions options) {
  if (expected_row_width < 0) return absl::InvalidArgumentError("expected_row_width must be >= 0");
  std::shared_ptr<ShmPerLayerEmbeddings> p(
      new ShmPerLayerEmbeddings(address, client_name, max_tokens, expected_row_width, options));
  std::lock_guard<std::mutex> lock(p->mu_);
  RETURN_IF_ERROR(p->AttachLocked());
  return p;
}

ShmPerLayerEmbeddings::~ShmPerLayerEmbeddings() {
  std::lock_guard<std::mutex> lock(mu_);
  DropLocked(/*detach=*/true);
}

absl::Status ShmPerLayerEmbeddings::NotRunning(const std::string& why) const {
  return absl::UnavailableError(absl::StrCat("PLE service at ", address_, " is not running (", why, ")"));
}

absl::Status ShmPerLayerEmbeddings::AttachLocked() const {
  // A call that does not wait for the channel to be ready fails at once while
  // it is in TRANSIENT_FAILURE, and nothing else drives a reconnect between
  // calls (gRPC's backup poller runs every 5 s), so a restarted service would
  // be found late. So: fail fast when nobody listens on the unix socket, and
  // otherwise let the call wait for the connection, up to the deadline.
  if (absl::Status probe = ProbeUnixSocket(address_); !probe.ok()) return NotRunning(std::string(probe.message()));
  internal::v1::AttachRequest request;
  request.set_client(client_name_);
  request.set_max_tokens(max_tokens_);
  internal::v1::AttachResponse response;
  const auto deadline = std::chrono::system_clock::now() + options_.attach_timeout;
  grpc::Status s;
  // Twice: right after a restart the first call can still meet the dead
  // connection to the old service ("Broken pipe") though the new one listens.
  for (int attempt = 0; attempt < 2; ++attempt) {
    grpc::ClientContext context;
    context.set_deadline(deadline);
    context.set_wait_for_ready(true);
    s = stub_->Attach(&context, request, &response);
    if (s.error_code() != grpc::StatusCode::UNAVAILABLE) break;
  }
  if (!s.ok()) {
    if (s.error_code() == grpc::StatusCode::UNAVAILABLE || s.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return NotRunning(absl::StrCat("attach: ", s.error_message()));
    }
    const absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("PLE service at ", address_, ": attach: ", status.message()));
  }
  auto detach = [&] {
    internal::v1::DetachRequest d;
    d.set_segment(response.segment());
    internal::v1::DetachResponse ignored;
    grpc::ClientContext c;
    SetDeadline(c, std::chrono::milliseconds(500));
    stub_->Detach(&c, d, &ignored);
  };
  if (row_width_ == 0) row_width_ = response.row_width();  // Connect(..., 0): take the service's
  if (response.row_width() != row_width_) {
    detach();
    return absl::FailedPreconditionError(absl::StrCat("PLE service at ", address_, " serves rows of ",
                                                      response.row_width(), " floats, this model needs ", row_width_,
                                                      " (a different model?)"));
  }
  absl::StatusOr<std::unique_ptr<ple::ShmSegment>> segment = ple::ShmSegment::Open(
      response.segment(), response.max_tokens(), response.row_width(), response.service_pid());
  if (!segment.ok() || response.max_tokens() != max_tokens_) {
    detach();
    return absl::FailedPreconditionError(absl::StrCat(
        "PLE service at ", address_, ": cannot use segment ", response.segment(), " (",
        segment.ok() ? absl::StrCat("capacity ", response.max_tokens(), ", asked ", max_tokens_)
                     : std::string(segment.status().message()),
        "); the service must run on this machine"));
  }
  (*segment)->header()->client_pid = ::getpid();
  segment_ = std::move(*segment);
  service_pid_ = response.service_pid();
  vocab_.store(response.vocab());
  attached_.store(true);
  spdlog::debug("attached to the PLE service at {} (pid {}): segment {}, {} tokens", address_, service_pid_,
                response.segment(), max_tokens_);
  return absl::OkStatus();
}

void ShmPerLayerEmbeddings::DropLocked(bool detach) const {
  if (!segment_) return;
  const std::string name = segment_->name();
  if (detach) {
    // n < 0 stops the service's thread even if the Detach call below fails.
    segment_->header()->n = -1;
    ::sem_post(&segment_->header()->request);
  }
  segment_.reset();
  attached_.store(false);
  if (!detach) return;
  internal::v1::DetachRequest request;
  request.set_segment(name);
  internal::v1::DetachResponse ignored;
  grpc::ClientContext context;
  SetDeadline(context, std::chrono::milliseconds(500));
  stub_->Detach(&context, request, &ignored);  // best-effort
}

absl::Status ShmPerLayerEmbeddings::Lookup(absl::Span<const int> ids, float* out) const {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t offset = 0; offset < ids.size(); offset += max_tokens_) {
    // A service that went away since the last lookup (one syscall): attach to
    // its successor right away instead of waiting a slice to notice.
    if (segment_ && !ProcessExists(service_pid_)) DropLocked(/*detach=*/false);
    if (!segment_) RETURN_IF_ERROR(AttachLocked());
    const size_t n = std::min(ids.size() - offset, static_cast<size_t>(max_tokens_));
    RETURN_IF_ERROR(RoundTripLocked(ids.subspan(offset, n), out + offset * row_width_));
  }
  return absl::OkStatus();
}

absl::Status ShmPerLayerEmbeddings::RoundTripLocked(absl::Span<const int> ids, float* out) const {
  ple::ShmHeader* h = segment_->header();
  std::memcpy(segment_->ids(), ids.data(), sizeof(int32_t) * ids.size());
  h->n = static_cast<int32_t>(ids.size());
  ::sem_post(&h->request);
  const Clock::time_point start = Clock::now();
  bool answered = false;
  if (options_.spin.count() > 0) {
    while (!(answered = ::sem_trywait(&h->response) == 0) && Clock::now() - start < options_.spin) {
      std::this_thread::yield();  // lets the service thread run if it shares this CPU
    }
  }
  const Clock::time_point deadline = start + options_.lookup_timeout;
  while (!answered) {
    const timespec until = MonotonicAfter(options_.poll_slice);
    if (::sem_clockwait(&h->response, CLOCK_MONOTONIC, &until) == 0) {
      answered = true;
      break;
    }
    if (errno == EINTR) continue;
    if (errno != ETIMEDOUT) {
      const std::string err = std::strerror(errno);
      DropLocked(/*detach=*/true);
      return absl::InternalError(absl::StrCat("waiting for the PLE service at ", address_, ": ", err));
    }
    if (!ProcessAlive(service_pid_)) {
      const int pid = service_pid_;
      DropLocked(/*detach=*/false);
      return NotRunning(absl::StrCat("pid ", pid, " exited during a lookup"));
    }
    if (Clock::now() >= deadline) {
      DropLocked(/*detach=*/true);
      return absl::UnavailableError(absl::StrCat("PLE service at ", address_, " did not answer a lookup of ",
                                                 ids.size(), " ids within ", options_.lookup_timeout.count(),
                                                 " ms; will attach again"));
    }
  }
  const int32_t code = h->status_code;
  if (code != 0) {
    const std::string message(h->error, ::strnlen(h->error, ple::kShmErrorBytes));
    if (code < 0 || code > static_cast<int32_t>(absl::StatusCode::kUnauthenticated)) {
      DropLocked(/*detach=*/true);
      return absl::InternalError(absl::StrCat("PLE service at ", address_, " answered status code ", code));
    }
    if (code == static_cast<int32_t>(absl::StatusCode::kUnavailable)) {
      DropLocked(/*detach=*/false);  // the service detached the segment itself
      return absl::UnavailableError(absl::StrCat("PLE service at ", address_, ": ", message));
    }
    return absl::Status(static_cast<absl::StatusCode>(code), message);
  }
  std::memcpy(out, segment_->rows(), sizeof(float) * ids.size() * static_cast<size_t>(row_width_));
  return absl::OkStatus();
}

absl::StatusOr<internal::v1::PleStats> ShmPerLayerEmbeddings::GetStats() const {
  internal::v1::PleStats stats;
  grpc::ClientContext context;
  SetDeadline(context, options_.attach_timeout);
  const grpc::Status s = stub_->GetStats(&context, internal::v1::PleStatsRequest(), &stats);
  if (!s.ok()) {
    const absl::Status status = FromGrpcStatus(s);
    return absl::Status(status.code(), absl::StrCat("PLE service at ", address_, ": stats: ", status.message()));
  }
  return stats;
}

}  // namespace gemma3n
