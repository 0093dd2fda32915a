// One mapped PLE segment (layout in shm_protocol.h), on either side: the
// service creates it, the client opens what Attach named. Unmapped when the
// object goes; the name is removed only by Unlink() (the service's job).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "ple_service/shm_protocol.h"

namespace gemma3n::ple {

class ShmSegment {
 public:
  // Service side: shm_open(O_CREAT | O_EXCL, 0600) (+ fchmod 0600, whatever
  // the umask), ftruncate to SegmentBytes, mmap, and a fresh header with both
  // semaphores process-shared and at 0. Any failure removes the name again.
  static absl::StatusOr<std::unique_ptr<ShmSegment>> Create(const std::string& name, int32_t capacity,
                                                            int32_t row_width);
  // Client side: maps `name` and checks the header (magic, version) and the
  // geometry against what Attach answered; FailedPrecondition otherwise.
  static absl::StatusOr<std::unique_ptr<ShmSegment>> Open(const std::string& name, int32_t capacity,
                                                          int32_t row_width, int32_t service_pid);
  ~ShmSegment();
  ShmSegment(const ShmSegment&) = delete;
  ShmSegment& operator=(const ShmSegment&) = delete;

  // shm_unlink(name): existing mappings stay valid, new opens fail.
  void Unlink();

  const std::string& name() const { return name_; }
  size_t bytes() const { return bytes_; }
  ShmHeader* header() const { return static_cast<ShmHeader*>(base_); }
  int32_t* ids() const { return reinterpret_cast<int32_t*>(static_cast<char*>(base_) + IdsOffset()); }
  float* rows() const { return reinterpret_cast<float*>(static_cast<char*>(base_) + RowsOffset(capacity_)); }
  int32_t capacity() const { return capacity_; }
  int32_t row_width() const { return row_width_; }

 private:
  // Takes over a mapping of `bytes` at `base`.
  ShmSegment(std::string name, void* base, size_t bytes, int32_t capacity, int32_t row_width)
      : name_(std::move(name)), base_(base), bytes_(bytes), capacity_(capacity), row_width_(row_width) {}
  std::string name_;
  void* base_ = nullptr;
  size_t bytes_ = 0;
  int32_t capacity_ = 0;
  int32_t row_width_ = 0;
};

}  // namespace gemma3n::ple
