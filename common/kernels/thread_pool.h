// A small fixed pool of worker threads for the data-parallel kernels. Each
// process creates its pools at its edge (main, a test, a benchmark) and passes
// them down: a model keeps the pool it was loaded with, the way gemma.cpp's
// threading context belongs to the model, so two models or a test can run
// on threads of their own. A pool is the only parallelism: creating one puts
// OpenBLAS in single-threaded mode, since its own threads would spin between
// calls and take the cores from ours (the kernels call sgemm inside tasks).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace gemma3n {

class ThreadPool {
 public:
  // num_threads <= 0: AvailableCores(). The caller's thread is one of them.
  explicit ThreadPool(int num_threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int num_threads() const { return static_cast<int>(workers_.size()) + 1; }

  // Calls fn(begin, end) on disjoint chunks covering [0, n), in parallel
  // (the caller's thread takes a share), and returns when all are done.
  // Not reentrant: one ParallelFor at a time per pool.
  void ParallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& fn);
  // Same, but runs inline when the whole job is below `min_work` units of
  // `work_per_item` each: waking threads costs more than small jobs take.
  void ParallelFor(int64_t n, int64_t work_per_item, int64_t min_work,
                   const std::function<void(int64_t, int64_t)>& fn);

  // The CPUs this process may run on (its affinity mask): the default size.
  static int AvailableCores();

 private:
  void WorkerLoop(int index);

  std::vector<std::thread> workers_;
  std::mutex mu_;
  std::condition_variable work_cv_, done_cv_;
  // task_ and task_n_ are written under mu_ before generation_ moves on
  // (release); a worker that sees the new generation (acquire) reads them.
  const std::function<void(int64_t, int64_t)>* task_ = nullptr;
  int64_t task_n_ = 0;
  std::atomic<uint64_t> generation_{0};
  std::atomic<int> pending_{0};
  bool stop_ = false;  // under mu_
};

// What a model holds: the pool it was given (not owned), or, given none, a
// pool of its own with `threads` threads (0 = every core).
class ModelThreads {
 public:
  explicit ModelThreads(ThreadPool* shared, int threads = 0)
      : own_(shared ? nullptr : std::make_unique<ThreadPool>(threads)), pool_(shared ? shared : own_.get()) {}
  ThreadPool& pool() const { return *pool_; }

 private:
  std::unique_ptr<ThreadPool> own_;
  ThreadPool* pool_;
};

}  // namespace gemma3n
