// `gemma3n serve --metrics ADDR`: one Prometheus endpoint for the whole
// system. Each child gets `--metrics 127.0.0.1:<free port>` of its own; a
// scrape of ADDR fetches every child's text (a short timeout: a child that is
// down or restarting is left out and shows as gemma3n_process_up 0) and
// merges it with serve's own metrics (gemma3n_process_restarts_total), each
// child's samples labelled process="<its name>" (cli/metrics_aggregator.h).
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/supervisor.h"
#include "common/cli/host_port.h"

namespace httplib {
class Server;
}

namespace gemma3n::cli {

class ServeMetrics {
 public:
  // Listens on `listen` now (InvalidArgument naming it when it cannot).
  static absl::StatusOr<std::unique_ptr<ServeMetrics>> Start(const HostPort& listen);
  ~ServeMetrics();  // stops serving

  // Gives the child a --metrics address of its own, scraped from now on.
  absl::Status AddChild(ChildSpec& spec);
  void CountRestart(const std::string& child);

  int port() const { return port_; }
  // What a scrape answers (the merged text).
  std::string Scrape();

 private:
  struct Child {
    std::string name;
    int port;
  };
  ServeMetrics() = default;

  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
  std::mutex mu_;  // children_: added by the supervisor, read by scrapes
  std::vector<Child> children_;
};

// A TCP port on 127.0.0.1 that is free now (bound, read, closed).
absl::StatusOr<int> FreeLoopbackPort();

}  // namespace gemma3n::cli
