// The gateway's channels to its workers. A worker address is any gRPC
// target: "unix:PATH" or "host:port" for one process, or a name standing for
// many — "dns:///vision.gemma3n:6001" (every address the name resolves to,
// e.g. a Kubernetes headless Service) or "ipv4:10.0.0.1:6001,10.0.0.2:6001".
// gRPC itself spreads the calls over them (its round_robin policy), sends
// them only to instances whose health service says SERVING (client-side
// health checking), drops instances that die or stop answering (keepalive
// pings), finds new ones when the name is resolved again, and retries a call
// on another instance when it failed UNAVAILABLE before any answer came.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/cli/args.h"
#include "grpcpp/channel.h"

namespace gemma3n {

// Keepalive: a client pings an idle or busy connection this often and drops
// it when the ping is not answered in time (a stopped or stuck process);
// servers (StartServer) allow pings this often, so they do not refuse them.
inline constexpr std::chrono::milliseconds kKeepalivePingInterval{10000};
inline constexpr std::chrono::milliseconds kKeepaliveTimeout{5000};
// Servers close each connection after this age (in-flight calls finish
// first), so clients resolve names again and spread over new instances.
inline constexpr std::chrono::milliseconds kMaxConnectionAge{300000};

// Whether `address` may stand for several instances (dns:, ipv4:, ipv6:),
// which gRPC balances and checks itself, rather than one process.
bool IsBalancedTarget(const std::string& address);

// TLS of the channels to workers on other machines: the CA that signed the
// workers' certificates (their --tls-cert), and this side's certificate and
// key for workers that require client certificates (their --tls-client-ca:
// mutual TLS). No CA: plaintext, for unix sockets and loopback.
struct WorkerTls {
  std::string ca_pem, cert_pem, key_pem;  // PEM contents
  bool enabled() const { return !ca_pem.empty(); }
};

// --worker-tls-ca FILE [--worker-tls-cert FILE --worker-tls-key FILE], the
// files read now (InvalidArgument / NotFound naming the flag's file).
absl::StatusOr<WorkerTls> WorkerTlsFlags(const Args& args);
inline constexpr char kWorkerTlsFlagsUsage[] =
    "  --worker-tls-ca FILE    reach the workers over TLS, trusting certificates signed by this CA\n"
    "  --worker-tls-cert FILE  and show them this PEM certificate and its key (for workers that\n"
    "  --worker-tls-key FILE   require client certificates: mutual TLS)\n";

// A channel to the worker(s) at `address`, as described above.
std::shared_ptr<grpc::Channel> MakeWorkerChannel(const std::string& address, const WorkerTls& tls = {});

}  // namespace gemma3n
