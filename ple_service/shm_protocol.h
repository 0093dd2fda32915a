// The shared-memory protocol between the PLE service and one attached client
// (a text worker). The gRPC call Attach creates one segment per client; rows
// then travel through it with no copy through a socket and no serialisation.
//
// Segment layout (all offsets 64-byte aligned, host byte order):
//
//   [0, kHeaderBytes)            ShmHeader
//   [IdsOffset, +4*capacity)     ids   int32 [capacity]
//   [RowsOffset, +4*cap*width)   rows  float32 [capacity, row_width], row-major
//
// One round trip (the client holds at most one request in flight):
//
//   client: ids[0..n) = ..., header.n = n, sem_post(request)
//   service thread (blocked in sem_wait(request)): validates n and the ids,
//       writes rows[0..n) (raw, unscaled table rows) and status_code/error,
//       sem_post(response)
//   client: polls sem_trywait(response) for a few microseconds, then
//       sem_clockwait in short slices, checking between slices that the
//       service process is alive; reads status, then rows[0..n)
//
// The semaphores order the plain reads and writes of the other fields (POSIX
// semaphore operations synchronise memory). n < 0 asks the service thread to
// stop serving the segment (the client detaches). When the service itself
// detaches a segment (Detach, shutdown) its thread answers UNAVAILABLE with a
// message and posts `response`, so a client waiting or arriving later learns
// that the segment is dead.
//
// Names: /gemma3n-ple-<service pid>-<counter>-<random> (SegmentName; shm_open, so /dev/shm/...),
// mode 0600. The service pid in the name lets a restarted service remove the
// segments of a service that died without unlinking them (SIGKILL).
#pragma once

#include <semaphore.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>

namespace gemma3n::ple {

inline constexpr uint32_t kShmMagic = 0x454C5047;  // "GPLE" in a little-endian dump
inline constexpr uint32_t kShmVersion = 1;
inline constexpr int kShmErrorBytes = 256;          // NUL-terminated message
inline constexpr int32_t kMinCapacityTokens = 1;
inline constexpr int32_t kMaxCapacityTokens = 65536;
inline constexpr char kSegmentPrefix[] = "gemma3n-ple-";  // names: see SegmentName

struct ShmHeader {
  uint32_t magic;        // kShmMagic, written last when the segment is created
  uint32_t version;      // kShmVersion
  int32_t service_pid;   // the process that serves this segment
  int32_t client_pid;    // written by the client once mapped (0 before); lets the
                         // service reclaim the segments of clients that died
  int32_t capacity;      // tokens per request: ids [capacity], rows [capacity, row_width]
  int32_t row_width;     // layers * ple_dim floats per row
  sem_t request;         // pshared; posted by the client after writing ids and n
  sem_t response;        // pshared; posted by the service after writing rows and status
  int32_t n;             // ids in this request, 0..capacity; < 0 = detach
  int32_t status_code;   // absl::StatusCode of the answer (0 = OK)
  char error[kShmErrorBytes];  // message when status_code != 0
};

constexpr size_t AlignUp(size_t x, size_t a) { return (x + a - 1) / a * a; }

inline constexpr size_t kHeaderBytes = AlignUp(sizeof(ShmHeader), 64);

constexpr size_t IdsOffset() { return kHeaderBytes; }
constexpr size_t RowsOffset(int64_t capacity) {
  return AlignUp(IdsOffset() + sizeof(int32_t) * static_cast<size_t>(capacity), 64);
}
constexpr size_t SegmentBytes(int64_t capacity, int64_t row_width) {
  return RowsOffset(capacity) + sizeof(float) * static_cast<size_t>(capacity) * static_cast<size_t>(row_width);
}

// "/gemma3n-ple-<pid>-<counter>-<64 random bits, hex>": the pid lets a new
// service remove what a dead one left; the random part means another local
// user cannot predict a name and create it first (Create uses O_EXCL, so a
// squatted name would only refuse an attach, never hand rows to a stranger).
inline std::string SegmentName(int pid, uint64_t counter) {
  std::random_device entropy;  // the kernel's random source
  const uint64_t nonce = (uint64_t{entropy()} << 32) ^ entropy();
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(nonce));
  return "/" + std::string(kSegmentPrefix) + std::to_string(pid) + "-" + std::to_string(counter) + "-" + hex;
}

}  // namespace gemma3n::ple
