// The PLE service in-process (gRPC on a unix socket, rows over shared memory)
// with ShmPerLayerEmbeddings clients: exact rows, several clients, lookups
// larger than a segment, bad ids and requests answered as errors, segment
// permissions and clean-up, stale segments of dead services and clients.
#include <fcntl.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "gtest/gtest.h"
#include "ple_service/client/shm_per_layer_embeddings.h"
#include "ple_service/ple_server.h"
#include "ple_service/shm_protocol.h"
#include "tests/ple/ple_test_util.h"
#include "tests/support/golden.h"

namespace gemma3n::ple {
namespace {

using testing::kTinyRowWidth;
using testing::ReferenceRows;
using testing::SegmentsOf;
using testing::SomeIds;

class PleServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    address_ = "unix:" + ::testing::TempDir() + "ple-test-" + std::to_string(::getpid()) + ".sock";
    StartService();
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }
  void StartService() {
    auto table = PleTable::Open(gemma3n::testing::TinyModelDir(), 0);
    ASSERT_TRUE(table.ok()) << table.status();
    auto server = PleServer::Start(std::move(*table), address_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::shared_ptr<ShmPerLayerEmbeddings> Connect(const std::string& name, int max_tokens) {
    auto c = ShmPerLayerEmbeddings::Connect(address_, name, max_tokens, kTinyRowWidth);
    EXPECT_TRUE(c.ok()) << c.status();
    return c.ok() ? *c : nullptr;
  }
  static absl::Status Lookup(const PerLayerEmbeddings& ple, const std::vector<int>& ids, std::vector<float>* out) {
    out->assign(ids.size() * kTinyRowWidth, -1.0f);
    return ple.Lookup(ids, out->data());
  }

  std::string address_;
  std::unique_ptr<PleServer> server_;
};

TEST_F(PleServiceTest, LookupsEqualTheCheckpointRowsExactly) {
  auto client = Connect("test", 64);
  ASSERT_TRUE(client);
  EXPECT_TRUE(client->attached());
  EXPECT_EQ(client->vocab(), 512);
  EXPECT_EQ(client->row_width(), kTinyRowWidth);
  std::vector<float> rows;
  for (int n : {1, 7, 64}) {
    const std::vector<int> ids = SomeIds(n, n);
    ASSERT_TRUE(Lookup(*client, ids, &rows).ok());
    EXPECT_EQ(rows, ReferenceRows(ids)) << n;
  }
  EXPECT_TRUE(client->Lookup({}, nullptr).ok());
  auto stats = client->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->lookups(), 3);
  EXPECT_EQ(stats->rows(), 72);
  EXPECT_EQ(stats->attached_clients(), 1);
  EXPECT_EQ(stats->table_bytes(), 512 * 256 * 2);
  EXPECT_GT(stats->table_resident_bytes(), 0);
  EXPECT_GT(stats->process_resident_bytes(), 1 << 20);
}

TEST_F(PleServiceTest, TwoClientsAtOnce) {
  auto a = Connect("a", 32);
  auto b = Connect("b", 8);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(SegmentsOf(::getpid()).size(), 2u);
  int failures[2] = {0, 0};
  auto run = [&](const ShmPerLayerEmbeddings& c, int k) {
    std::vector<float> rows;
    for (int it = 0; it < 200; ++it) {
      const std::vector<int> ids = SomeIds(1 + it % 40, it * 2 + k);
      if (!Lookup(c, ids, &rows).ok() || rows != ReferenceRows(ids)) ++failures[k];
    }
  };
  std::thread ta(run, std::cref(*a), 0), tb(run, std::cref(*b), 1);
  ta.join();
  tb.join();
  EXPECT_EQ(failures[0], 0);
  EXPECT_EQ(failures[1], 0);
  auto stats = a->GetStats();
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->attached_clients(), 2);
}

TEST_F(PleServiceTest, LookupLargerThanTheSegmentIsSplit) {
  auto client = Connect("small", 5);
  ASSERT_TRUE(client);
  std::vector<int> all(512);
  for (int i = 0; i < 512; ++i) all[i] = 511 - i;
  std::vector<float> rows;
  ASSERT_TRUE(Lookup(*client, all, &rows).ok());
  EXPECT_EQ(rows, ReferenceRows(all));
  auto stats = client->GetStats();
  ASSERT_TRUE(stats.ok());
  EXPECT_EQ(stats->lookups(), (512 + 4) / 5);  // round trips
  EXPECT_EQ(stats->rows(), 512);
}

TEST_F(PleServiceTest, BadIdIsInvalidArgumentAndTheServiceKeepsWorking) {
  auto client = Connect("bad-ids", 16);
  ASSERT_TRUE(client);
  std::vector<float> rows;
  absl::Status s = Lookup(*client, {3, 4, 600}, &rows);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("600"), std::string::npos) << s;
  EXPECT_NE(s.message().find("[0, 512)"), std::string::npos) << s;
  s = Lookup(*client, {-7}, &rows);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_TRUE(client->attached());
  const std::vector<int> ids = {3, 4, 511};
  ASSERT_TRUE(Lookup(*client, ids, &rows).ok());
  EXPECT_EQ(rows, ReferenceRows(ids));
}

TEST_F(PleServiceTest, SegmentIsPrivateAndGoneAfterDetach) {
  const mode_t old_umask = ::umask(0);  // the mode must not depend on the umask
  auto client = Connect("private", 16);
  ::umask(old_umask);
  ASSERT_TRUE(client);
  const std::vector<std::string> segments = SegmentsOf(::getpid());
  ASSERT_EQ(segments.size(), 1u);
  struct stat st;
  ASSERT_EQ(::stat(("/dev/shm/" + segments[0]).c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(st.st_size, static_cast<off_t>(SegmentBytes(16, kTinyRowWidth)));
  client.reset();  // detaches
  EXPECT_TRUE(SegmentsOf(::getpid()).empty());
  EXPECT_EQ(server_->shm().attached_clients(), 0);
}

TEST_F(PleServiceTest, MaxTokensOutOfRangeIsInvalidArgument) {
  for (int bad : {0, -3, kMaxCapacityTokens + 1}) {
    auto c = ShmPerLayerEmbeddings::Connect(address_, "x", bad, kTinyRowWidth);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument) << c.status();
    EXPECT_NE(c.status().message().find("max_tokens"), std::string::npos) << c.status();
  }
  EXPECT_TRUE(SegmentsOf(::getpid()).empty());
}

TEST_F(PleServiceTest, WrongRowWidthIsFailedPreconditionAndLeavesNoSegment) {
  auto c = ShmPerLayerEmbeddings::Connect(address_, "other-model", 8, 512);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kFailedPrecondition) << c.status();
  EXPECT_NE(c.status().message().find("256"), std::string::npos) << c.status();
  EXPECT_TRUE(SegmentsOf(::getpid()).empty());
  EXPECT_EQ(server_->shm().attached_clients(), 0);
}

TEST_F(PleServiceTest, NoServiceIsUnavailableNamingTheAddress) {
  const std::string nowhere = "unix:" + ::testing::TempDir() + "ple-none-" + std::to_string(::getpid()) + ".sock";
  auto c = ShmPerLayerEmbeddings::Connect(nowhere, "x", 8, kTinyRowWidth);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kUnavailable) << c.status();
  EXPECT_NE(c.status().message().find("PLE service at " + nowhere + " is not running"), std::string::npos)
      << c.status();
}

TEST_F(PleServiceTest, StoppedServiceIsUnavailableThenFoundAgainAfterARestart) {
  auto client = Connect("survivor", 8);
  ASSERT_TRUE(client);
  server_->Stop();
  EXPECT_TRUE(SegmentsOf(::getpid()).empty());
  std::vector<float> rows;
  const auto t0 = std::chrono::steady_clock::now();
  absl::Status s = Lookup(*client, {1, 2}, &rows);
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_FALSE(client->attached());
  s = Lookup(*client, {1, 2}, &rows);  // attach again: nobody listens
  EXPECT_EQ(s.code(), absl::StatusCode::kUnavailable) << s;
  EXPECT_NE(s.message().find("is not running"), std::string::npos) << s;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));

  StartService();
  // The channel may still be backing off its reconnects (<= 1 s).
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  do {
    s = Lookup(*client, {1, 2}, &rows);
  } while (!s.ok() && std::chrono::steady_clock::now() < until);
  ASSERT_TRUE(s.ok()) << s;
  EXPECT_TRUE(client->attached());
  EXPECT_EQ(rows, ReferenceRows({1, 2}));
}

// The protocol below the client library: requests the client never sends.
TEST_F(PleServiceTest, RawRequestsOutsideTheSegmentAreAnsweredWithAnError) {
  auto seg_info = server_->shm().Attach("raw", 4);
  ASSERT_TRUE(seg_info.ok()) << seg_info.status();
  auto seg = ShmSegment::Open(seg_info->name, 4, kTinyRowWidth, ::getpid());
  ASSERT_TRUE(seg.ok()) << seg.status();
  ShmHeader* h = (*seg)->header();
  auto round_trip = [&](int n) {
    h->n = n;
    ::sem_post(&h->request);
    timespec ts;
    ::clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 5;
    EXPECT_EQ(::sem_timedwait(&h->response, &ts), 0);
    return h->status_code;
  };
  EXPECT_EQ(round_trip(5), static_cast<int>(absl::StatusCode::kInvalidArgument));
  EXPECT_NE(std::string(h->error).find("holds 4"), std::string::npos) << h->error;
  (*seg)->ids()[0] = 9;
  EXPECT_EQ(round_trip(1), 0);
  EXPECT_EQ(std::vector<float>((*seg)->rows(), (*seg)->rows() + kTinyRowWidth), ReferenceRows({9}));
  EXPECT_EQ(round_trip(0), 0);
  // n < 0: the client detaches; the thread stops, Detach then unlinks.
  h->n = -1;
  ::sem_post(&h->request);
  EXPECT_TRUE(server_->shm().Detach(seg_info->name).ok());
  EXPECT_EQ(server_->shm().Detach(seg_info->name).code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(SegmentsOf(::getpid()).empty());
}

TEST_F(PleServiceTest, AttachedClientsAreBoundedAndASlotFreesOnDetach) {
  server_->Stop();
  server_.reset();
  auto table = PleTable::Open(gemma3n::testing::TinyModelDir(), 0);
  ASSERT_TRUE(table.ok());
  auto server = PleServer::Start(std::move(*table), address_, /*max_clients=*/2);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  ShmServer& shm = server_->shm();
  auto a = shm.Attach("a", 8);
  auto b = shm.Attach("b", 8);
  ASSERT_TRUE(a.ok() && b.ok());
  const auto c = shm.Attach("c", 8);
  EXPECT_EQ(c.status().code(), absl::StatusCode::kResourceExhausted) << c.status();
  EXPECT_NE(c.status().message().find("--max-clients"), std::string::npos) << c.status();
  EXPECT_EQ(shm.attached_clients(), 2);
  ASSERT_TRUE(shm.Detach(a->name).ok());
  EXPECT_TRUE(shm.Attach("c", 8).ok());
}

TEST_F(PleServiceTest, SegmentsOfDeadClientsAreReclaimedAtTheNextAttach) {
  auto first = server_->shm().Attach("dies", 4);
  ASSERT_TRUE(first.ok());
  auto seg = ShmSegment::Open(first->name, 4, kTinyRowWidth, ::getpid());
  ASSERT_TRUE(seg.ok());
  const pid_t child = ::fork();  // a pid that is surely dead afterwards
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  (*seg)->header()->client_pid = child;
  auto second = server_->shm().Attach("lives", 4);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(server_->shm().attached_clients(), 1);
  EXPECT_EQ(SegmentsOf(::getpid()), std::vector<std::string>{second->name.substr(1)});
}

TEST(PleStaleSegmentsTest, SegmentsOfDeadServicesAreRemovedOthersKept) {
  const pid_t child = ::fork();
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const std::string dead = SegmentName(child, 0);
  const std::string alive = SegmentName(::getppid(), 1000000 + ::getpid());
  for (const std::string& name : {dead, alive}) {
    const int fd = ::shm_open(name.c_str(), O_CREAT | O_RDWR, 0600);
    ASSERT_GE(fd, 0) << name;
    ::close(fd);
  }
  const std::vector<std::string> removed = ShmServer::RemoveStaleSegments();
  EXPECT_NE(std::find(removed.begin(), removed.end(), dead), removed.end());
  EXPECT_EQ(std::find(removed.begin(), removed.end(), alive), removed.end());
  EXPECT_TRUE(SegmentsOf(child).empty());
  EXPECT_EQ(::shm_unlink(alive.c_str()), 0);  // it was kept
}

}  // namespace
}  // namespace gemma3n::ple
