// PerLayerEmbeddings served by the PLE service (gemma3n-ple-service): the text
// worker's side of the shared-memory protocol (ple_service/shm_protocol.h).
// Attach over gRPC gives a segment of `max_tokens` rows; a Lookup writes the
// ids there, posts `request` and waits for `response` (~tens of microseconds,
// no socket, no serialisation). Rows are raw, as from the checkpoint.
//
// Failure handling, so a text worker never hangs on a dead service:
// - after a short poll (`spin`), the wait is sem_clockwait in slices of
//   `poll_slice` (100 ms); between slices the service pid is checked
//   (kill(pid, 0), zombies count as dead);
// - a dead service, a segment the service detached, or no answer within
//   `lookup_timeout` (30 s) drops the mapping and returns UNAVAILABLE
//   "PLE service at ADDR is not running (...)" / "... did not answer ...";
// - the next Lookup attaches again (a restarted service is found again; a
//   kill(pid, 0) before each round trip notices a replaced service at once);
// - attaching first probes a "unix:" socket, so with no service listening a
//   Lookup is UNAVAILABLE at once instead of after `attach_timeout`.
// One lookup at a time per client (mutex); use one client per worker thread
// that needs concurrent lookups.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "absl/types/span.h"
#include "common/embedder/per_layer_embeddings.h"
#include "gemma3n/internal/v1/internal.grpc.pb.h"
#include "ple_service/shm_segment.h"

namespace gemma3n {

struct ShmPleClientOptions {
  std::chrono::milliseconds attach_timeout{3000};  // deadline of Attach (and GetStats)
  std::chrono::milliseconds lookup_timeout{30000};  // one round trip, service alive but silent
  std::chrono::milliseconds poll_slice{100};        // liveness check period while waiting
  // Poll (sem_trywait + sched_yield) this long for the answer before
  // sleeping: a short answer comes in microseconds, and waking a sleeping
  // thread costs more than that on some machines (~25 us on a 2-vCPU VM:
  // 1-token round trip 42 -> 13 us). The yield lets the service thread run
  // when it shares this CPU. 0 = always sleep.
  std::chrono::microseconds spin{50};
};

class ShmPerLayerEmbeddings : public PerLayerEmbeddings {
 public:
  // Attaches to the PLE service at `address` ("unix:PATH" or "host:port") for
  // lookups of up to `max_tokens` ids per round trip (larger lookups are split).
  // Errors: UNAVAILABLE when the service cannot be reached; the service's
  // INVALID_ARGUMENT for max_tokens outside [1, 65536]; FAILED_PRECONDITION
  // when its rows are not `expected_row_width` wide (another model).
  // expected_row_width 0 takes the width of the first attach (tools that
  // know no model); later attaches must match it.
  static absl::StatusOr<std::shared_ptr<ShmPerLayerEmbeddings>> Connect(const std::string& address,
                                                                        const std::string& client_name,
                                                                        int max_tokens, int64_t expected_row_width,
                                                                        ShmPleClientOptions options = {});
  // Detaches politely (best-effort, short deadline).
  ~ShmPerLayerEmbeddings() override;

  int64_t row_width() const override { return row_width_; }
  // ids [n] -> out [n, row_width], raw rows. INVALID_ARGUMENT (from the
  // service) for an id outside [0, vocab); UNAVAILABLE as described above.
  absl::Status Lookup(absl::Span<const int> ids, float* out) const override;

  // Whether a segment is mapped now (false after the service died, until a
  // Lookup attaches again).
  bool attached() const { return attached_.load(); }
  int64_t vocab() const { return vocab_.load(); }  // from the last attach
  int capacity() const { return max_tokens_; }
  const std::string& address() const { return address_; }
  // The service's counters and memory figures.
  absl::StatusOr<internal::v1::PleStats> GetStats() const;

 private:
  ShmPerLayerEmbeddings(std::string address, std::string client_name, int max_tokens, int64_t row_width,
                        ShmPleClientOptions options);
  absl::Status AttachLocked() const;
  // One request of ids.size() <= capacity ids.
  absl::Status RoundTripLocked(absl::Span<const int> ids, float* out) const;
  // Unmaps the segment; `detach` also tells the service (short deadline).
  void DropLocked(bool detach) const;
  absl::Status NotRunning(const std::string& why) const;

  const std::string address_;
  const std::string client_name_;
  const int max_tokens_;
  // Fixed inside Connect (expected, or the first attach's), read-only after.
  mutable int64_t row_width_;
  const ShmPleClientOptions options_;
  std::unique_ptr<internal::v1::PleService::Stub> stub_;

  mutable std::mutex mu_;
  mutable std::unique_ptr<ple::ShmSegment> segment_;  // null = detached
  mutable int service_pid_ = 0;
  mutable std::atomic<bool> attached_{false};
  mutable std::atomic<int64_t> vocab_{0};
};

}  // namespace gemma3n
