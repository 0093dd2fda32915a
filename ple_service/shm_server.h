// The data plane of the PLE service: one shared-memory segment and one thread
// per attached client (protocol in shm_protocol.h). The thread sleeps in
// sem_wait(request) (no polling), validates the request, fills the rows from
// the table and posts `response`. Bad requests (n outside [0, capacity], ids
// outside the vocabulary) are answered with an error status and message in
// the header; they never stop the thread or the service.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "common/embedder/per_layer_embeddings.h"
#include "common/metrics/registry.h"
#include "ple_service/shm_segment.h"

namespace gemma3n::ple {

struct AttachedSegment {
  std::string name;     // shm_open name, "/gemma3n-ple-<pid>-<n>-<random>"
  int64_t bytes = 0;    // SegmentBytes(capacity, row_width)
  int32_t capacity = 0;
  int32_t row_width = 0;
};

class ShmServer {
 public:
  // Clients attached at once when nobody says otherwise: each holds a
  // segment and a serving thread (a text worker attaches once).
  static constexpr int kDefaultMaxClients = 64;

  // `rows` (thread-safe Lookup) must outlive the server.
  explicit ShmServer(const PerLayerEmbeddings& rows, int max_clients = kDefaultMaxClients);
  ~ShmServer();  // Shutdown()
  ShmServer(const ShmServer&) = delete;
  ShmServer& operator=(const ShmServer&) = delete;

  // Unlinks the segments in `dir` (/dev/shm) named gemma3n-ple-<pid>-* whose
  // pid is no longer alive: what a SIGKILLed service left. Returns their names.
  static std::vector<std::string> RemoveStaleSegments(const std::string& dir = "/dev/shm");

  // A new segment of `max_tokens` ids/rows for `client` (a name for logs) and
  // its serving thread. InvalidArgument for max_tokens outside
  // [kMinCapacityTokens, kMaxCapacityTokens]; ResourceExhausted when /dev/shm
  // cannot hold it or max_clients are attached; Unavailable once shutting down. Also reclaims first the
  // segments of clients that died without detaching.
  absl::StatusOr<AttachedSegment> Attach(const std::string& client, int32_t max_tokens);
  // Stops the segment's thread (a client waiting gets UNAVAILABLE), joins it
  // and unlinks the segment. NotFound for a name this server does not serve.
  absl::Status Detach(const std::string& segment);
  // Detaches every segment; later Attach calls fail. Idempotent.
  void Shutdown();

  int attached_clients() const;

 private:
  struct Client {
    std::string name;  // the client's, for logs
    std::unique_ptr<ShmSegment> segment;
    std::atomic<bool> stop{false};  // process-local: a client cannot forge it
    std::thread thread;
  };
  void Serve(Client* client);
  // Stops, joins and unlinks (outside mu_).
  static void Release(std::unique_ptr<Client> client, const char* why);
  void ReapDeadClients();

  const PerLayerEmbeddings& rows_;
  const int max_clients_;
  mutable std::mutex mu_;
  bool shutting_down_ = false;
  uint64_t next_id_ = 0;
  std::map<std::string, std::unique_ptr<Client>> clients_;  // by segment name
  // Looked up once: updated on every lookup.
  prometheus::Histogram& lookup_seconds_;
  prometheus::Counter& lookup_rows_;
  prometheus::Counter& lookups_ok_;
  metrics::SampledGauge attached_gauge_;  // last: ends before what it reads
};

}  // namespace gemma3n::ple
