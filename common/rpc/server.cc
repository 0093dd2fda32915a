#include "common/rpc/server.h"

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "common/rpc/worker_channel.h"
#include "common/status/status_macros.h"
#include "grpcpp/security/server_credentials.h"
#include "spdlog/spdlog.h"

namespace gemma3n {

namespace {

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(const TlsFiles& tls) {
  if (!tls.enabled()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions ssl(tls.client_ca.empty()
                                            ? GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE
                                            : GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, ReadPem(tls.cert, "certificate"));
  ASSIGN_OR_RETURN(pair.private_key, ReadPem(tls.key, "key"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!tls.client_ca.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem(tls.client_ca, "client CA"));
  }
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read the TLS ", what, " ", path));
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (pem.find("-----BEGIN ") == std::string::npos) {
    return absl::InvalidArgumentError(absl::StrCat("the TLS ", what, " ", path, " is not a PEM file"));
  }
  return pem;
}

std::set<std::string> WithTlsFlags(std::set<std::string> flags) {
  flags.insert({"tls-cert", "tls-key", "tls-client-ca"});
  return flags;
}

absl::StatusOr<TlsFiles> TlsFlags(const Args& args) {
  TlsFiles tls;
  tls.cert = args.Get("tls-cert").value_or("");
  tls.key = args.Get("tls-key").value_or("");
  tls.client_ca = args.Get("tls-client-ca").value_or("");
  if (tls.cert.empty() != tls.key.empty()) {
    return absl::InvalidArgumentError("--tls-cert and --tls-key go together");
  }
  if (!tls.client_ca.empty() && tls.cert.empty()) {
    return absl::InvalidArgumentError("--tls-client-ca needs --tls-cert and --tls-key");
  }
  return tls;
}

absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(const ServerOptions& options) {
  if (options.listen.empty()) return absl::InvalidArgumentError("no listen address");
  if (!options.local_listen.empty() && !absl::StartsWith(options.local_listen, "unix:")) {
    return absl::InvalidArgumentError(
        absl::StrCat("the local listen address must be unix:PATH, not ", options.local_listen));
  }
  for (const std::string* address : {&options.listen, &options.local_listen}) {
    if (!absl::StartsWith(*address, "unix:")) continue;
    // A socket file left by a crashed process would make the bind fail.
    const std::string path = address->substr(5);
    if (!path.empty() && path[0] != '@') ::unlink(path.c_str());
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials, Credentials(options.tls));
  grpc::ServerBuilder builder;
  int bound_port = 0;
  builder.AddListeningPort(options.listen, credentials, &bound_port);
  if (!options.local_listen.empty()) builder.AddListeningPort(options.local_listen, grpc::InsecureServerCredentials());
  // The gateway's keepalive pings (common/rpc/worker_channel.h) are
  // welcome, busy or idle; connections are recycled now and then so
  // clients of a name resolve it again.
  builder.AddChannelArgument(GRPC_ARG_HTTP2_MIN_RECV_PING_INTERVAL_WITHOUT_DATA_MS,
                             static_cast<int>(kKeepalivePingInterval.count() / 2));
  builder.AddChannelArgument(GRPC_ARG_KEEPALIVE_PERMIT_WITHOUT_CALLS, 1);
  builder.AddChannelArgument(GRPC_ARG_MAX_CONNECTION_AGE_MS, static_cast<int>(kMaxConnectionAge.count()));
  builder.SetMaxReceiveMessageSize(static_cast<int>(options.max_message_bytes));
  builder.SetMaxSendMessageSize(static_cast<int>(options.max_message_bytes));
  for (grpc::Service* s : options.services) builder.RegisterService(s);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (!server || (!absl::StartsWith(options.listen, "unix:") && bound_port == 0)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot listen on ", options.listen, " (address in use, or not a valid host:port / unix:PATH",
        options.tls.enabled() ? "; or the TLS certificate and key do not belong together" : "", ")"));
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  spdlog::info("listening on {}{}{}", options.listen,
               options.tls.enabled() ? (options.tls.client_ca.empty() ? " (TLS)" : " (mutual TLS)") : "",
               options.local_listen.empty() ? "" : absl::StrCat(" and ", options.local_listen));
  return server;
}

sigset_t ShutdownSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

void BlockShutdownSignals() {
  const sigset_t set = ShutdownSignals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  signal(SIGPIPE, SIG_IGN);
}

int WaitForShutdownSignal() {
  const sigset_t set = ShutdownSignals();
  int sig = 0;
  sigwait(&set, &sig);
  spdlog::info("signal {}: shutting down", sig);
  return sig;
}

grpc::ChannelArguments ChannelArgs(int64_t max_message_bytes) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(static_cast<int>(max_message_bytes));
  args.SetMaxSendMessageSize(static_cast<int>(max_message_bytes));
  // A restarted worker should be found again quickly, not after the default
  // back-off of up to two minutes.
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  return args;
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int64_t max_message_bytes) {
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), ChannelArgs(max_message_bytes));
}

absl::StatusOr<std::string> PrivateSocketDir() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  const std::string dir = runtime && *runtime ? std::string(runtime) + "/gemma3n"
                                              : absl::StrCat("/tmp/gemma3n-", ::getuid());
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    return absl::PermissionDeniedError(absl::StrCat("cannot create the socket directory ", dir, ": ",
                                                    std::strerror(errno)));
  }
  struct stat st;
  if (::lstat(dir.c_str(), &st) != 0) {
    return absl::PermissionDeniedError(absl::StrCat("cannot inspect ", dir, ": ", std::strerror(errno)));
  }
  if (!S_ISDIR(st.st_mode) || st.st_uid != ::getuid() || (st.st_mode & 077) != 0) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the socket directory ", dir, " is not a directory of this user's only (owner uid ", st.st_uid,
        ", mode ", absl::StrFormat("%o", st.st_mode & 07777), "): remove it, or pass the addresses explicitly"));
  }
  return dir;
}

absl::StatusOr<std::string> DefaultServiceAddress(const std::string& kind) {
  absl::StatusOr<std::string> dir = PrivateSocketDir();
  if (!dir.ok()) return dir.status();
  return absl::StrCat("unix:", *dir, "/", kind, ".sock");
}

absl::StatusOr<std::string> AddressFlag(const Args& args, const std::string& flag, const std::string& kind) {
  if (std::optional<std::string> given = args.Get(flag)) return *given;
  return DefaultServiceAddress(kind);
}

}  // namespace gemma3n
