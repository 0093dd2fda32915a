#include "cli/serve_metrics.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>

#include "absl/strings/str_cat.h"
#include "cli/metrics_aggregator.h"
#include "common/metrics/endpoint.h"
#include "common/metrics/registry.h"
#include "common/status/status_macros.h"
#include "httplib.h"
#include "spdlog/spdlog.h"

namespace gemma3n::cli {
namespace {

// A child's metrics come from its own process on the same machine: a child
// that takes longer is stopped or busy forking, and the scrape goes on without it.
constexpr int kChildConnectMs = 200;
constexpr int kChildReadMs = 1000;

// The child's metrics text, or nothing when it does not answer in time.
std::optional<std::string> FetchChildText(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(0, kChildConnectMs * 1000);
  client.set_read_timeout(0, kChildReadMs * 1000);
  httplib::Result result = client.Get("/metrics");
  if (!result || result->status != 200) return std::nullopt;
  return result->body;
}

}  // namespace

absl::StatusOr<int> FreeLoopbackPort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  const int error = errno;
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("no free port on 127.0.0.1: ", std::strerror(error)));
  return static_cast<int>(ntohs(addr.sin_port));
}

absl::StatusOr<std::unique_ptr<ServeMetrics>> ServeMetrics::Start(const HostPort& listen) {
  std::unique_ptr<ServeMetrics> m(new ServeMetrics());
  m->server_ = std::make_unique<httplib::Server>();
  ServeMetrics* self = m.get();
  m->server_->Get("/metrics", [self](const httplib::Request&, httplib::Response& res) {
    res.set_content(self->Scrape(), "text/plain; version=0.0.4; charset=utf-8");
  });
  m->port_ = listen.port == 0 ? m->server_->bind_to_any_port(listen.host)
                              : (m->server_->bind_to_port(listen.host, listen.port) ? listen.port : -1);
  if (m->port_ <= 0) {
    return absl::InvalidArgumentError(absl::StrCat("cannot serve metrics on ", listen.host, ":", listen.port,
                                                   " (address in use, or not a valid host:port)"));
  }
  m->thread_ = std::thread([self] { self->server_->listen_after_bind(); });
  spdlog::info("metrics of every process on http://{}:{}/metrics", listen.host, m->port_);
  return m;
}

ServeMetrics::~ServeMetrics() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

absl::Status ServeMetrics::AddChild(ChildSpec& spec) {
  ASSIGN_OR_RETURN(const int port, FreeLoopbackPort());
  spec.argv.insert(spec.argv.end(), {absl::StrCat("--", metrics::kMetricsFlag), absl::StrCat("127.0.0.1:", port)});
  metrics::Process().Counter(metrics::Metric::kProcessRestarts, {spec.name});  // 0 until the first restart
  std::lock_guard<std::mutex> lock(mu_);
  children_.push_back({spec.name, port});
  return absl::OkStatus();
}

void ServeMetrics::CountRestart(const std::string& child) {
  metrics::Process().Counter(metrics::Metric::kProcessRestarts, {child}).Increment();
}

std::string ServeMetrics::Scrape() {
  std::vector<Child> children;
  {
    std::lock_guard<std::mutex> lock(mu_);
    children = children_;
  }
  std::vector<ProcessMetricsText> texts(1);  // [0]: serve's own, read last (the up gauges)
  for (const Child& c : children) {
    std::optional<std::string> text = FetchChildText(c.port);
    metrics::Process().Gauge(metrics::Metric::kProcessUp, {c.name}).Set(text ? 1 : 0);
    if (text) texts.push_back({c.name, *std::move(text)});
  }
  texts[0].text = metrics::Process().Text();
  return MergeMetricsTexts(texts);
}

}  // namespace gemma3n::cli
