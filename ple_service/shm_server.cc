#include "ple_service/shm_server.h"

#include <dirent.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cerrno>
#include <cstring>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/process/process_alive.h"
#include "ple_service/shm_protocol.h"
#include "spdlog/spdlog.h"

namespace gemma3n::ple {
namespace {

// Writes the answer's status into the header and wakes the client.
void Answer(ShmHeader* h, const absl::Status& status) {
  h->status_code = static_cast<int32_t>(status.code());
  const size_t n = std::min(status.message().size(), static_cast<size_t>(kShmErrorBytes - 1));
  // An OK status's message has a null data(), and memcpy takes no null
  // pointer even for 0 bytes (UBSan: nonnull-attribute).
  if (n > 0) std::memcpy(h->error, status.message().data(), n);
  h->error[n] = '\0';
  ::sem_post(&h->response);
}

// The pid in "gemma3n-ple-<pid>-<n>-<nonce>", or -1.
int SegmentPid(const std::string& file) {
  if (!absl::StartsWith(file, kSegmentPrefix)) return -1;
  const std::string rest = file.substr(std::strlen(kSegmentPrefix));
  const size_t dash = rest.find('-');
  int pid = -1;
  if (dash == std::string::npos || !absl::SimpleAtoi(rest.substr(0, dash), &pid)) return -1;
  return pid;
}

}  // namespace

ShmServer::ShmServer(const PerLayerEmbeddings& rows, int max_clients)
    : rows_(rows),
      max_clients_(max_clients),
      lookup_seconds_(metrics::Process().Histogram(metrics::Metric::kPleLookupDuration)),
      lookup_rows_(metrics::Process().Counter(metrics::Metric::kPleLookupRows)),
      lookups_ok_(metrics::Process().Counter(metrics::Metric::kPleLookups, {metrics::CodeLabel(0)})),
      attached_gauge_(metrics::Process().Sample(metrics::Metric::kPleAttachedClients,
                                                [this] { return static_cast<double>(attached_clients()); })) {}

ShmServer::~ShmServer() { Shutdown(); }

std::vector<std::string> ShmServer::RemoveStaleSegments(const std::string& dir) {
  std::vector<std::string> removed;
  DIR* d = ::opendir(dir.c_str());
  if (!d) return removed;
  while (const dirent* e = ::readdir(d)) {
    const std::string file = e->d_name;
    const int pid = SegmentPid(file);
    if (pid <= 0 || pid == ::getpid() || ProcessAlive(pid)) continue;
    if (::shm_unlink(("/" + file).c_str()) == 0) {
      spdlog::info("removed stale segment /{} of PLE service pid {} (not running)", file, pid);
      removed.push_back("/" + file);
    }
  }
  ::closedir(d);
  return removed;
}

absl::StatusOr<AttachedSegment> ShmServer::Attach(const std::string& client, int32_t max_tokens) {
  if (max_tokens < kMinCapacityTokens || max_tokens > kMaxCapacityTokens) {
    return absl::InvalidArgumentError(absl::StrCat("max_tokens ", max_tokens, " outside [", kMinCapacityTokens,
                                                   ", ", kMaxCapacityTokens, "]"));
  }
  ReapDeadClients();
  const int32_t width = static_cast<int32_t>(rows_.row_width());
  const size_t bytes = SegmentBytes(max_tokens, width);
  // The segment is sparse, but a full request writes every page of it: a
  // tmpfs that cannot hold it would kill the service with SIGBUS later.
  struct statvfs fs;
  if (::statvfs("/dev/shm", &fs) == 0 && static_cast<double>(fs.f_bavail) * fs.f_frsize < bytes) {
    return absl::ResourceExhaustedError(absl::StrCat("a segment of ", bytes, " bytes (", max_tokens,
                                                     " tokens) does not fit in /dev/shm (",
                                                     static_cast<uint64_t>(fs.f_bavail) * fs.f_frsize, " bytes free)"));
  }
  std::string name;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (shutting_down_) return absl::UnavailableError("PLE service is shutting down");
    if (static_cast<int>(clients_.size()) >= max_clients_) {
      return absl::ResourceExhaustedError(absl::StrCat(clients_.size(), " clients are attached, the most this PLE ",
                                                       "service takes (--max-clients); detach one first"));
    }
    name = SegmentName(::getpid(), next_id_++);
  }
  auto c = std::make_unique<Client>();
  c->name = client;
  absl::StatusOr<std::unique_ptr<ShmSegment>> segment = ShmSegment::Create(name, max_tokens, width);
  if (!segment.ok()) return segment.status();
  c->segment = std::move(*segment);
  c->thread = std::thread(&ShmServer::Serve, this, c.get());
  AttachedSegment out{name, static_cast<int64_t>(bytes), max_tokens, width};
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!shutting_down_) {
      clients_.emplace(name, std::move(c));
      spdlog::info("attached client '{}': segment {} ({} tokens, {} bytes)", client, name, max_tokens, bytes);
      return out;
    }
  }
  Release(std::move(c), "shutting down");
  return absl::UnavailableError("PLE service is shutting down");
}

absl::Status ShmServer::Detach(const std::string& segment) {
  std::unique_ptr<Client> c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = clients_.find(segment);
    if (it == clients_.end()) return absl::NotFoundError(absl::StrCat("no attached segment ", segment));
    c = std::move(it->second);
    clients_.erase(it);
  }
  Release(std::move(c), "detached");
  return absl::OkStatus();
}

void ShmServer::Shutdown() {
  std::map<std::string, std::unique_ptr<Client>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    shutting_down_ = true;
    all.swap(clients_);
  }
  for (auto& [name, c] : all) Release(std::move(c), "service shutting down");
}

int ShmServer::attached_clients() const {
  std::lock_guard<std::mutex> lock(mu_);
  return static_cast<int>(clients_.size());
}

void ShmServer::ReapDeadClients() {
  std::vector<std::unique_ptr<Client>> dead;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = clients_.begin(); it != clients_.end();) {
      const int pid = it->second->segment->header()->client_pid;
      if (pid > 0 && !ProcessAlive(pid)) {
        dead.push_back(std::move(it->second));
        it = clients_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& c : dead) Release(std::move(c), "client process exited without detaching");
}

void ShmServer::Release(std::unique_ptr<Client> c, const char* why) {
  c->stop.store(true);
  ::sem_post(&c->segment->header()->request);
  if (c->thread.joinable()) c->thread.join();
  c->segment->Unlink();
  spdlog::info("detached client '{}': segment {} ({})", c->name, c->segment->name(), why);
}

void ShmServer::Serve(Client* c) {
  ShmSegment& seg = *c->segment;
  ShmHeader* h = seg.header();
  std::vector<int> ids;
  ids.reserve(seg.capacity());
  for (;;) {
    if (::sem_wait(&h->request) != 0) {
      if (errno == EINTR) continue;
      spdlog::error("sem_wait on {}: {}; no longer serving it", seg.name(), std::strerror(errno));
      return;
    }
    if (c->stop.load()) {
      Answer(h, absl::UnavailableError(absl::StrCat("PLE segment ", seg.name(), " was detached by the service")));
      return;
    }
    const int32_t n = h->n;  // read once: the client could change it meanwhile
    if (n < 0) return;       // the client detaches
    if (n > seg.capacity()) {
      Answer(h, absl::InvalidArgumentError(
                    absl::StrCat("PLE request of ", n, " ids, the segment holds ", seg.capacity())));
      continue;
    }
    // Copied so the ids checked are the ids read, whatever the client does.
    ids.assign(seg.ids(), seg.ids() + n);
    const auto start = std::chrono::steady_clock::now();
    const absl::Status status = rows_.Lookup(ids, seg.rows());
    Answer(h, status);
    lookup_seconds_.Observe(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    lookup_rows_.Increment(n);
    if (status.ok()) {
      lookups_ok_.Increment();
    } else {
      metrics::Process()
          .Counter(metrics::Metric::kPleLookups, {metrics::CodeLabel(static_cast<int>(status.code()))})
          .Increment();
    }
  }
}

}  // namespace gemma3n::ple
