// --metrics HOST:PORT, the same on every gemma3n binary: Prometheus metrics
// over HTTP at http://HOST:PORT/metrics, off by default. The services
// binaries serve their process registry with prometheus-cpp's exposer.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/cli/args.h"
#include "common/cli/host_port.h"
#include "common/metrics/registry.h"

namespace prometheus {
class Exposer;
}

namespace gemma3n::metrics {

inline constexpr char kMetricsFlag[] = "metrics";
inline constexpr char kMetricsFlagUsage[] =
    "  --metrics HOST:PORT     serve Prometheus metrics at http://HOST:PORT/metrics\n"
    "                          (off by default), e.g. 127.0.0.1:9464\n";

class MetricsEndpoint {
 public:
  ~MetricsEndpoint();
  // Serves `registry` until destroyed; InvalidArgument naming the address
  // when it cannot be bound.
  static absl::StatusOr<std::unique_ptr<MetricsEndpoint>> Start(const HostPort& address,
                                                                std::shared_ptr<Registry> registry);
  int port() const { return port_; }

 private:
  MetricsEndpoint() = default;
  std::shared_ptr<Registry> registry_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
};

// The process registry at --metrics, or null when the flag is not given.
absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsFlag(const Args& args);

}  // namespace gemma3n::metrics
