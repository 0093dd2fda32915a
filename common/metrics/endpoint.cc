#include "common/metrics/endpoint.h"

#include <exception>

#include "absl/strings/str_cat.h"
#include "common/status/status_macros.h"
#include "prometheus/exposer.h"
#include "spdlog/spdlog.h"

namespace gemma3n::metrics {

MetricsEndpoint::~MetricsEndpoint() = default;

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> MetricsEndpoint::Start(const HostPort& address,
                                                                        std::shared_ptr<Registry> registry) {
  const bool v6 = address.host.find(':') != std::string::npos;
  const std::string bind =
      v6 ? absl::StrCat("[", address.host, "]:", address.port) : absl::StrCat(address.host, ":", address.port);
  std::unique_ptr<MetricsEndpoint> endpoint(new MetricsEndpoint());
  endpoint->registry_ = std::move(registry);
  try {
    // One thread: a scrape is a few kilobytes, and a second scraper waits.
    endpoint->exposer_ = std::make_unique<prometheus::Exposer>(bind, 1);
  } catch (const std::exception& e) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serve metrics on ", bind,
                                                   " (address in use, or not a valid host:port): ", e.what()));
  }
  endpoint->exposer_->RegisterCollectable(endpoint->registry_);
  const std::vector<int> ports = endpoint->exposer_->GetListeningPorts();
  endpoint->port_ = ports.empty() ? address.port : ports.front();
  spdlog::info("metrics on http://{}:{}/metrics", v6 ? "[" + address.host + "]" : address.host, endpoint->port_);
  return endpoint;
}

absl::StatusOr<std::unique_ptr<MetricsEndpoint>> StartMetricsFlag(const Args& args) {
  const std::optional<std::string> flag = args.Get(kMetricsFlag);
  if (!flag) return std::unique_ptr<MetricsEndpoint>();
  ASSIGN_OR_RETURN(const HostPort address, ParseHostPort(kMetricsFlag, *flag));
  return MetricsEndpoint::Start(address, ProcessRegistry());
}

}  // namespace gemma3n::metrics
