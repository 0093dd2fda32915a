// The fake hub (tests/hub/fake_hub.py) as a child process on a free port,
// and what it logged of the requests it answered.
#pragma once

#include <string>
#include <vector>

#include "tests/integration/process.h"

namespace gemma3n::testing {

struct HubRequest {
  std::string method, path, range, auth;  // range / auth: empty when not sent
};

class FakeHub {
 public:
  // Serves tests/data/gemma3n-tiny as kRepo, and each "ORG/NAME=DIR" of
  // `more_repos`; `faults`: fake_hub.py flags.
  FakeHub(const std::string& dir, const std::vector<std::string>& faults,
          const std::vector<std::string>& more_repos = {});

  static constexpr char kRepo[] = "test-org/gemma3n-tiny";
  const std::string& endpoint() const { return endpoint_; }
  std::vector<HubRequest> Requests() const;
  // The requests that fetched a file's bytes (GETs of resolve/ or cdn/).
  std::vector<HubRequest> Downloads() const;
  void Stop() { process_ = ChildProcess(); }

 private:
  std::string log_path_;
  std::string endpoint_;
  ChildProcess process_;
};

}  // namespace gemma3n::testing
