#include "common/kernels/thread_pool.h"

#include <cblas.h>
#include <sched.h>

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <memory>

namespace gemma3n {

int ThreadPool::AvailableCores() {
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

ThreadPool::ThreadPool(int num_threads) {
  static std::once_flag blas_single_threaded;
  std::call_once(blas_single_threaded, [] { openblas_set_num_threads(1); });
  if (num_threads <= 0) num_threads = AvailableCores();
  for (int i = 1; i < num_threads; ++i) {
    workers_.emplace_back([this, i] { WorkerLoop(i); });
  }
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  work_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

// Decoding makes hundreds of small parallel calls per token, a few tens of
// microseconds apart, and waking a sleeping thread costs about 25 us on this
// kind of VM. So both sides spin this long for the other before sleeping.
constexpr auto kSpin = std::chrono::microseconds(100);

// Spins until done() or kSpin has passed; true when done() held.
template <typename Done>
static bool SpinUntil(const Done& done) {
  const auto deadline = std::chrono::steady_clock::now() + kSpin;
  for (int i = 0;; ++i) {
    if (done()) return true;
    _mm_pause();
    if ((i & 63) == 63 && std::chrono::steady_clock::now() > deadline) return done();
  }
}

static void RunShare(const std::function<void(int64_t, int64_t)>& fn, int64_t n, int index, int parts) {
  const int64_t begin = n * index / parts;
  const int64_t end = n * (index + 1) / parts;
  if (begin < end) fn(begin, end);
}

void ThreadPool::ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn) {
  const int parts = num_threads();
  if (parts == 1 || n < 2) {
    if (n > 0) fn(0, n);
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    task_ = &fn;
    task_n_ = n;
    pending_.store(parts - 1, std::memory_order_relaxed);
    generation_.fetch_add(1, std::memory_order_release);
  }
  work_cv_.notify_all();
  RunShare(fn, n, 0, parts);
  auto all_done = [this] { return pending_.load(std::memory_order_acquire) == 0; };
  if (!SpinUntil(all_done)) {
    std::unique_lock<std::mutex> lock(mu_);
    done_cv_.wait(lock, all_done);
  }
  std::lock_guard<std::mutex> lock(mu_);
  task_ = nullptr;
}

void ThreadPool::ParallelFor(int64_t n, int64_t work_per_item, int64_t min_work,
                             const std::function<void(int64_t, int64_t)>& fn) {
  if (n * work_per_item < min_work) {
    if (n > 0) fn(0, n);
    return;
  }
  ParallelFor(n, fn);
}

void ThreadPool::WorkerLoop(int index) {
  uint64_t seen = 0;
  for (;;) {
    auto new_work = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    const std::function<void(int64_t, int64_t)>* task;
    int64_t n;
    if (!SpinUntil(new_work)) {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] { return stop_ || new_work(); });
      if (stop_) return;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
      seen = generation_.load(std::memory_order_acquire);
      task = task_;
      n = task_n_;
    }
    RunShare(*task, n, index, num_threads());
    if (pending_.fetch_sub(1, std::memory_order_acq_rel) == 1) {
      std::lock_guard<std::mutex> lock(mu_);  // the caller may be about to wait
      done_cv_.notify_one();
    }
  }
}

}  // namespace gemma3n
