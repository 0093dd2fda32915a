// TLS of our gRPC servers with a certificate made for the test by the
// openssl command: a client that trusts it gets through, a plaintext one does
// not; with --tls-client-ca, a client without a certificate is refused and
// one with a certificate the CA signed gets through.
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/rpc/liveness.h"
#include "common/rpc/server.h"
#include "common/rpc/worker_channel.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"

namespace gemma3n {
namespace {

using namespace std::chrono_literals;

int FreePort() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(std::filesystem::temp_directory_path() / ("tls-test-" + std::to_string(getpid())));
    std::filesystem::create_directories(*dir_);
    // A self-signed certificate for localhost: the server's, and the CA of
    // the client certificates in the mutual-TLS test.
    const std::string cmd = "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
                            "-addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout " +
                            *dir_ + "/key.pem -out " + *dir_ + "/cert.pem 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << "openssl could not make a certificate";
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }
  std::unique_ptr<grpc::Server> Start(bool mutual) {
    address_ = "127.0.0.1:" + std::to_string(FreePort());
    ServerOptions options;
    options.listen = address_;
    options.tls = {*dir_ + "/cert.pem", *dir_ + "/key.pem", mutual ? *dir_ + "/cert.pem" : ""};
    auto server = StartServer(options);
    EXPECT_TRUE(server.ok()) << server.status();
    return server.ok() ? *std::move(server) : nullptr;
  }
  std::shared_ptr<grpc::Channel> Secure(bool with_client_cert) const {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(*dir_ + "/cert.pem");
    if (with_client_cert) {
      ssl.pem_private_key = Read(*dir_ + "/key.pem");
      ssl.pem_cert_chain = Read(*dir_ + "/cert.pem");
    }
    return grpc::CreateChannel(address_, grpc::SslCredentials(ssl));
  }
  static std::string* dir_;
  std::string address_;
};
std::string* TlsTest::dir_ = nullptr;

TEST_F(TlsTest, AClientThatTrustsTheCertificateGetsThroughAndPlaintextDoesNot) {
  auto server = Start(/*mutual=*/false);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(ProbeLiveness(address_, Secure(false), 5s), Liveness::kLive);
  EXPECT_NE(ProbeLiveness(address_, MakeChannel(address_), 2s), Liveness::kLive);
}

TEST_F(TlsTest, MutualTlsRefusesAClientWithoutACertificate) {
  auto server = Start(/*mutual=*/true);
  ASSERT_NE(server, nullptr);
  EXPECT_EQ(ProbeLiveness(address_, Secure(true), 5s), Liveness::kLive);
  EXPECT_NE(ProbeLiveness(address_, Secure(false), 2s), Liveness::kLive);
}

// The gateway's side (--worker-tls-*): a worker that requires client
// certificates is reached with the flags' files, and not without them.
TEST_F(TlsTest, WorkerChannelsSpeakMutualTlsWithTheWorkerTlsFlags) {
  auto server = Start(/*mutual=*/true);
  ASSERT_NE(server, nullptr);
  auto flags = [](std::vector<std::string> argv) {
    absl::StatusOr<Args> args = Args::Parse(argv, {"worker-tls-ca", "worker-tls-cert", "worker-tls-key"}, {});
    EXPECT_TRUE(args.ok()) << args.status();
    return WorkerTlsFlags(*args);
  };
  const std::string pem = *dir_ + "/cert.pem", key = *dir_ + "/key.pem";
  absl::StatusOr<WorkerTls> mutual = flags({"--worker-tls-ca", pem, "--worker-tls-cert", pem, "--worker-tls-key", key});
  ASSERT_TRUE(mutual.ok()) << mutual.status();
  EXPECT_EQ(ProbeLiveness(address_, MakeWorkerChannel(address_, *mutual), 5s), Liveness::kLive);
  absl::StatusOr<WorkerTls> ca_only = flags({"--worker-tls-ca", pem});
  ASSERT_TRUE(ca_only.ok()) << ca_only.status();
  EXPECT_NE(ProbeLiveness(address_, MakeWorkerChannel(address_, *ca_only), 2s), Liveness::kLive);
  EXPECT_NE(ProbeLiveness(address_, MakeWorkerChannel(address_), 2s), Liveness::kLive);

  EXPECT_EQ(flags({"--worker-tls-ca", pem, "--worker-tls-cert", pem}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(flags({"--worker-tls-cert", pem, "--worker-tls-key", key}).status().code(),
            absl::StatusCode::kInvalidArgument);
  absl::StatusOr<WorkerTls> missing = flags({"--worker-tls-ca", *dir_ + "/missing.pem"});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("missing.pem"), std::string::npos) << missing.status();
}

TEST_F(TlsTest, BadTlsFlagsAndFilesAreClearErrors) {
  ServerOptions options;
  options.listen = "127.0.0.1:" + std::to_string(FreePort());
  options.tls = {*dir_ + "/missing.pem", *dir_ + "/key.pem", ""};
  EXPECT_EQ(StartServer(options).status().code(), absl::StatusCode::kNotFound);
  std::ofstream(*dir_ + "/not-pem.txt") << "hello";
  options.tls = {*dir_ + "/not-pem.txt", *dir_ + "/key.pem", ""};
  absl::StatusOr<std::unique_ptr<grpc::Server>> bad = StartServer(options);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("not a PEM file"), std::string::npos);
  absl::StatusOr<Args> args = Args::Parse({"--tls-cert", "c.pem"}, {"tls-cert", "tls-key", "tls-client-ca"}, {});
  ASSERT_TRUE(args.ok());
  EXPECT_EQ(TlsFlags(*args).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace gemma3n
