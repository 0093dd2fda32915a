// Notices that the client of an HTTP request hung up, while its request is
// still being served (queued, prefilling or streaming), so the generation can
// be cancelled at once instead of running to its end for nobody.
// cpp-httplib 0.11 gives a handler no handle on its connection, so the
// connection's socket is found among the process's descriptors by the
// request's TCP addresses (local port, peer address and port: unique for a
// live connection) and a thread polls it for the peer's hang-up. A peer
// that only shuts down its sending side (a half-close, which HTTP clients
// do not do while waiting for a reply) is taken as gone too.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace gemma3n::http {

class ClientWatch {
 public:
  // `on_gone` runs once, on the watch's thread, when the peer hangs up.
  ClientWatch(int local_port, const std::string& remote_addr, int remote_port, std::function<void()> on_gone);
  ~ClientWatch();  // stops watching (and waits for the thread)
  ClientWatch(const ClientWatch&) = delete;
  ClientWatch& operator=(const ClientWatch&) = delete;

  bool watching() const { return socket_ >= 0; }  // false: the connection was not found
  bool gone() const { return gone_; }

 private:
  void Run();

  int socket_ = -1;
  int wake_ = -1;  // eventfd that ends the thread
  std::function<void()> on_gone_;
  std::atomic<bool> gone_{false};
  std::thread thread_;
};

// The descriptor of this process's TCP connection with these addresses, or -1.
int FindConnection(int local_port, const std::string& remote_addr, int remote_port);

}  // namespace gemma3n::http
