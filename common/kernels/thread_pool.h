// A small fixed pool of worker threads for data-parallel kernels (the hot
// matrix-vector products of decoding). OpenBLAS keeps its own threads for GEMM.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace gemma3n {

class ThreadPool {
 public:
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

  // The process-wide pool used by the kernels; sized by SetDefaultThreads
  // (default: hardware concurrency), which also sets OpenBLAS's threads.
  static ThreadPool& Default();
  static void SetDefaultThreads(int num_threads);

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

}  // namespace gemma3n
