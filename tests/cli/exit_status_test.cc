// Exit codes at the process edge: 2 where running again cannot help (serve
// stops instead of restarting such a process), 1 for what may pass.
#include "common/cli/exit_status.h"

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

TEST(ExitStatusTest, BadInputAndMissingFilesAreTwoTransientFailuresOne) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("bad flag")), 2);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("no tokenizer.json")), 2);
  EXPECT_EQ(ExitCodeFor(absl::FailedPreconditionError("wrong format")), 2);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("the PLE service is not up")), 1);
  EXPECT_EQ(ExitCodeFor(absl::InternalError("bug")), 1);
}

}  // namespace
}  // namespace gemma3n
