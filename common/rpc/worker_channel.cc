#include "common/rpc/worker_channel.h"

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/rpc/server.h"
#include "common/status/status_macros.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/channel_arguments.h"

namespace gemma3n {
namespace {

// round_robin over the resolved addresses, each used only while its health
// service says SERVING.
constexpr char kBalancing[] = R"("loadBalancingConfig": [{"round_robin": {}}], "healthCheckConfig": {"serviceName": ""})";
// Behind a balanced name, every method is retried (up to 3 attempts, each
// picking the next instance) on UNAVAILABLE while nothing has been answered
// yet: gRPC commits a call to its attempt once the first response arrives,
// so a stream that has sent tokens is never replayed. One process's address
// gets no retries: the gateway itself moves on to its next worker address.
constexpr char kRetry[] = R"("methodConfig": [{"name": [{}], "retryPolicy": {"maxAttempts": 3,
  "initialBackoff": "0.1s", "maxBackoff": "1s", "backoffMultiplier": 2, "retryableStatusCodes": ["UNAVAILABLE"]}}])";

}  // namespace

bool IsBalancedTarget(const std::string& address) {
  return absl::StartsWith(address, "dns:") || absl::StartsWith(address, "ipv4:") ||
         absl::StartsWith(address, "ipv6:");
}

absl::StatusOr<WorkerTls> WorkerTlsFlags(const Args& args) {
  const std::string ca = args.Get("worker-tls-ca").value_or("");
  const std::string cert = args.Get("worker-tls-cert").value_or("");
  const std::string key = args.Get("worker-tls-key").value_or("");
  if (cert.empty() != key.empty()) return absl::InvalidArgumentError("--worker-tls-cert and --worker-tls-key go together");
  if (ca.empty() && !cert.empty()) return absl::InvalidArgumentError("--worker-tls-cert needs --worker-tls-ca");
  WorkerTls tls;
  if (ca.empty()) return tls;
  ASSIGN_OR_RETURN(tls.ca_pem, ReadPem(ca, "worker CA"));
  if (!cert.empty()) {
    ASSIGN_OR_RETURN(tls.cert_pem, ReadPem(cert, "client certificate"));
    ASSIGN_OR_RETURN(tls.key_pem, ReadPem(key, "client key"));
  }
  return tls;
}

std::shared_ptr<grpc::Channel> MakeWorkerChannel(const std::string& address, const WorkerTls& tls) {
  grpc::ChannelArguments args = ChannelArgs(kMaxMessageBytes);
  args.SetServiceConfigJSON(IsBalancedTarget(address) ? absl::StrCat("{", kBalancing, ", ", kRetry, "}")
                                                      : absl::StrCat("{", kBalancing, "}"));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, static_cast<int>(kKeepalivePingInterval.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, static_cast<int>(kKeepaliveTimeout.count()));
  args.SetInt(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  args.SetInt(GRPC_ARG_HTTP2_MAX_PINGS_WITHOUT_DATA, 0);  // keep pinging an idle connection
  if (!tls.enabled()) return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = tls.ca_pem;
  ssl.pem_cert_chain = tls.cert_pem;
  ssl.pem_private_key = tls.key_pem;
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(ssl), args);
}

}  // namespace gemma3n
