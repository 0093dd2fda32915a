#include "ple_service/shm_segment.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace gemma3n::ple {
namespace {

std::string Errno() { return std::strerror(errno); }

// Maps fd [0, bytes) shared read-write.
absl::StatusOr<void*> MapShared(int fd, size_t bytes, const std::string& name) {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) return absl::ResourceExhaustedError(absl::StrCat("mmap of ", name, ": ", Errno()));
  return p;
}

}  // namespace

absl::StatusOr<std::unique_ptr<ShmSegment>> ShmSegment::Create(const std::string& name, int32_t capacity,
                                                               int32_t row_width) {
  const size_t bytes = SegmentBytes(capacity, row_width);
  const int fd = ::shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) return absl::InternalError(absl::StrCat("shm_open(", name, ", O_CREAT|O_EXCL): ", Errno()));
  auto fail = [&](absl::Status s) {
    ::close(fd);
    ::shm_unlink(name.c_str());
    return s;
  };
  // The mode given to shm_open is filtered by the umask; make it exactly 0600.
  if (::fchmod(fd, 0600) != 0) return fail(absl::InternalError(absl::StrCat("fchmod ", name, ": ", Errno())));
  // Sparse: pages of /dev/shm are only used once rows are written to them.
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) {
    return fail(absl::ResourceExhaustedError(absl::StrCat("ftruncate ", name, " to ", bytes, " bytes: ", Errno())));
  }
  absl::StatusOr<void*> base = MapShared(fd, bytes, name);
  if (!base.ok()) return fail(base.status());
  ::close(fd);  // the mapping keeps the object alive

  auto seg = std::unique_ptr<ShmSegment>(new ShmSegment(name, *base, bytes, capacity, row_width));
  ShmHeader* h = seg->header();
  std::memset(h, 0, sizeof(ShmHeader));
  h->version = kShmVersion;
  h->service_pid = ::getpid();
  h->capacity = capacity;
  h->row_width = row_width;
  if (::sem_init(&h->request, /*pshared=*/1, 0) != 0 || ::sem_init(&h->response, /*pshared=*/1, 0) != 0) {
    const std::string err = Errno();
    seg->Unlink();
    return absl::InternalError(absl::StrCat("sem_init in ", name, ": ", err));
  }
  std::atomic_thread_fence(std::memory_order_release);
  h->magic = kShmMagic;
  return seg;
}

absl::StatusOr<std::unique_ptr<ShmSegment>> ShmSegment::Open(const std::string& name, int32_t capacity,
                                                             int32_t row_width, int32_t service_pid) {
  const size_t bytes = SegmentBytes(capacity, row_width);
  const int fd = ::shm_open(name.c_str(), O_RDWR, 0);
  if (fd < 0) return absl::UnavailableError(absl::StrCat("shm_open(", name, "): ", Errno()));
  struct stat st;
  if (::fstat(fd, &st) != 0 || static_cast<size_t>(st.st_size) < bytes) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("segment ", name, " holds ", st.st_size, " bytes, expected ", bytes));
  }
  absl::StatusOr<void*> base = MapShared(fd, bytes, name);
  ::close(fd);
  if (!base.ok()) return base.status();
  auto seg = std::unique_ptr<ShmSegment>(new ShmSegment(name, *base, bytes, capacity, row_width));
  const ShmHeader* h = seg->header();
  if (h->magic != kShmMagic || h->version != kShmVersion) {
    return absl::FailedPreconditionError(absl::StrCat("segment ", name, " is not a PLE segment of version ",
                                                      kShmVersion, " (magic ", h->magic, ", version ",
                                                      h->version, ")"));
  }
  std::atomic_thread_fence(std::memory_order_acquire);
  if (h->capacity != capacity || h->row_width != row_width || h->service_pid != service_pid) {
    return absl::FailedPreconditionError(absl::StrCat(
        "segment ", name, " header (capacity ", h->capacity, ", row width ", h->row_width, ", service pid ",
        h->service_pid, ") does not match the attach answer (", capacity, ", ", row_width, ", ", service_pid, ")"));
  }
  return seg;
}

ShmSegment::~ShmSegment() {
  // No sem_destroy: the other process may still be blocked on the semaphores.
  if (base_) ::munmap(base_, bytes_);
}

void ShmSegment::Unlink() { ::shm_unlink(name_.c_str()); }

}  // namespace gemma3n::ple
