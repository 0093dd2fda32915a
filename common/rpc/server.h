// What every gemma3n gRPC server shares: the standard health service, server
// reflection (so grpcurl and any language's client work without our .proto
// files), message-size limits, "unix:PATH" or "host:port" listen addresses,
// and a clean stop on SIGINT/SIGTERM.
#pragma once

#include <signal.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "grpcpp/grpcpp.h"

namespace gemma3n {

// The largest gRPC message our servers and clients take by default:
// requests carry images and audio.
inline constexpr int64_t kMaxMessageBytes = 64ll << 20;

// Where a standalone service of `kind` ("text", "ple", "vision", "audio")
// listens, and its clients look, when no address is given.
std::string DefaultServiceAddress(const std::string& kind);

struct ServerOptions {
  std::string listen;                       // "127.0.0.1:50051" or "unix:/path.sock"
  int64_t max_message_bytes = kMaxMessageBytes;
  std::vector<grpc::Service*> services;
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
std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address, int64_t max_message_bytes = kMaxMessageBytes);

}  // namespace gemma3n
