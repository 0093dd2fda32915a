// What every gemma3n gRPC server shares: the standard health service, server
// reflection (so grpcurl and any language's client work without our .proto
// files), message-size limits, "unix:PATH" or "host:port" listen addresses,
// and a clean stop on SIGINT/SIGTERM.
#pragma once

#include <signal.h>

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/cli/args.h"
#include "grpcpp/grpcpp.h"

namespace gemma3n {

// The largest gRPC message our internal servers and clients take: the text
// worker's request carries the soft tokens of every image and audio clip,
// [tokens, hidden] f32, up to a whole context (32768 x 2048 x 4 B = 256 MB
// at E4B's width). Only our own processes talk on these channels.
inline constexpr int64_t kMaxMessageBytes = 512ll << 20;
// The public API's default request limit (the gateway's --max-request-mb):
// enough for several images and minutes of WAV, and small enough that a
// full queue of such requests stays within a home server's memory.
inline constexpr int64_t kDefaultPublicRequestBytes = 32ll << 20;

// The directory of the default sockets: $XDG_RUNTIME_DIR/gemma3n when that
// is set, else /tmp/gemma3n-<uid>. Created 0700 if missing; an existing one
// must be a real directory (not a link) owned by this user with no access
// for others, so no other local user can bind our sockets first or read the
// prompts sent through them (PERMISSION_DENIED otherwise, with the path).
absl::StatusOr<std::string> PrivateSocketDir();

// Where a standalone service of `kind` ("text", "ple", "vision", "audio")
// listens, and its clients look, when no address is given:
// unix:PrivateSocketDir()/<kind>.sock.
absl::StatusOr<std::string> DefaultServiceAddress(const std::string& kind);

// The value of --`flag`, or DefaultServiceAddress(kind) without it.
absl::StatusOr<std::string> AddressFlag(const Args& args, const std::string& flag, const std::string& kind);

// TLS of a server: PEM files. With client_ca also set, clients must show a
// certificate signed by it (mutual TLS).
struct TlsFiles {
  std::string cert, key, client_ca;
  bool enabled() const { return !cert.empty(); }
};

// --tls-cert FILE --tls-key FILE [--tls-client-ca FILE]: both or neither
// of cert and key (InvalidArgument otherwise); the files are read by
// StartServer.
absl::StatusOr<TlsFiles> TlsFlags(const Args& args);
// `flags` and the three above: the value flags of a program that serves TLS.
std::set<std::string> WithTlsFlags(std::set<std::string> flags);
// The contents of the PEM file at `path`; NotFound / InvalidArgument naming
// it (`what`: "certificate", "key", ...) when it is missing or not PEM.
absl::StatusOr<std::string> ReadPem(const std::string& path, const char* what);
inline constexpr char kTlsFlagsUsage[] =
    "  --tls-cert FILE         serve TLS (gRPC, and HTTPS for --http) with this PEM certificate and\n"
    "  --tls-key FILE          its PEM private key\n"
    "  --tls-client-ca FILE    also require client certificates signed by this CA (mutual TLS)\n";

struct ServerOptions {
  std::string listen;                       // "127.0.0.1:50051" or "unix:/path.sock"
  int64_t max_message_bytes = kMaxMessageBytes;
  std::vector<grpc::Service*> services;
  TlsFiles tls;                             // off: plaintext (loopback and unix sockets)
  // Also listen here without TLS: a unix socket for local supervisors and
  // probes (`gemma3n serve`'s health checks) when `listen` is TLS. "" = none;
  // only "unix:PATH" (a TCP port without TLS would undo the TLS).
  std::string local_listen;
};

// Starts the server; InvalidArgument naming the address when it cannot be
// bound (in use, or not an address). Stale unix socket files are removed first.
absl::StatusOr<std::unique_ptr<grpc::Server>> StartServer(const ServerOptions& options);

// Blocks until SIGINT or SIGTERM (which it blocks for the calling thread and
// any thread started after). Call BlockShutdownSignals() first thing in
// main so no thread gets the default handler.
void BlockShutdownSignals();
sigset_t ShutdownSignals();  // {SIGINT, SIGTERM}
int WaitForShutdownSignal();

// Channel arguments our clients use (message-size limits, fast reconnects).
grpc::ChannelArguments ChannelArgs(int64_t max_message_bytes);
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int64_t max_message_bytes = kMaxMessageBytes);

}  // namespace gemma3n
