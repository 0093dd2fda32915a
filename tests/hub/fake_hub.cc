#include "tests/hub/fake_hub.h"

#include <chrono>
#include <filesystem>
#include <fstream>

#include "gtest/gtest.h"
#include "nlohmann/json.hpp"

namespace gemma3n::testing {

FakeHub::FakeHub(const std::string& dir, const std::vector<std::string>& faults,
                 const std::vector<std::string>& more_repos)
    : log_path_(dir + "/hub-requests.log") {
  const std::string port_file = dir + "/hub.port";
  std::vector<std::string> argv = {"/usr/bin/python3", std::string(GEMMA3N_SOURCE_DIR) + "/tests/hub/fake_hub.py",
                                   "--repo", std::string(kRepo) + "=" + GEMMA3N_TEST_DATA_DIR + "/gemma3n-tiny",
                                   "--port-file", port_file, "--log", log_path_};
  for (const std::string& repo : more_repos) argv.insert(argv.end(), {"--repo", repo});
  argv.insert(argv.end(), faults.begin(), faults.end());
  process_ = ChildProcess(argv, dir + "/hub.out");
  std::string port;
  const bool up = WaitUntil(
      [&] {
        std::ifstream in(port_file);
        return static_cast<bool>(in >> port);
      },
      std::chrono::seconds(20));
  EXPECT_TRUE(up) << process_.Log();
  endpoint_ = "http://127.0.0.1:" + port;
}

std::vector<HubRequest> FakeHub::Requests() const {
  std::vector<HubRequest> out;
  std::ifstream in(log_path_);
  std::string line;
  while (std::getline(in, line)) {
    const nlohmann::json j = nlohmann::json::parse(line);
    auto text = [&](const char* key) { return j[key].is_string() ? j[key].get<std::string>() : std::string(); };
    out.push_back({text("method"), text("path"), text("range"), text("auth")});
  }
  return out;
}

std::vector<HubRequest> FakeHub::Downloads() const {
  std::vector<HubRequest> out;
  for (const HubRequest& r : Requests()) {
    const bool bytes = r.path.rfind("/cdn/", 0) == 0 || r.path.find("/resolve/") != std::string::npos;
    if (r.method == "GET" && bytes) out.push_back(r);
  }
  return out;
}

}  // namespace gemma3n::testing
