// The stop-string filter over streamed text: nothing that may start a stop
// string is released early, a stop string split over several pushes is still
// found, and nothing after it is ever released.
#include "gateway/stop_strings.h"

#include "gtest/gtest.h"

namespace gemma3n {
namespace {

TEST(StopStringFilterTest, AStopStringSplitOverPushesIsCaught) {
  StopStringFilter f({"lo wo"});
  EXPECT_EQ(f.Push("Hel"), "He");   // "l" may start "lo wo"
  EXPECT_EQ(f.Push("lo"), "l");     // "lo" still may
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.Push(" world"), "");  // "lo wo" complete: nothing of it, nothing after
  EXPECT_TRUE(f.stopped());
  EXPECT_EQ(f.Push("more"), "");
  EXPECT_EQ(f.Flush(), "");
}

TEST(StopStringFilterTest, HeldTextIsReleasedWhenItCannotStartAStop) {
  StopStringFilter f({"END"});
  EXPECT_EQ(f.Push("the E"), "the ");
  EXPECT_EQ(f.Push("Nx"), "ENx");  // "ENx" cannot become "END"
  EXPECT_EQ(f.Push("EN"), "");
  EXPECT_EQ(f.Flush(), "EN");      // the stream ended before the stop completed
  EXPECT_FALSE(f.stopped());
}

TEST(StopStringFilterTest, TheEarliestMatchWinsAndTextBeforeItIsSent) {
  StopStringFilter f({"world", "o w"});
  EXPECT_EQ(f.Push("hello world"), "hell");
  EXPECT_TRUE(f.stopped());
}

TEST(StopStringFilterTest, AMatchInsideOnePushCutsIt) {
  StopStringFilter f({"\n\n"});
  EXPECT_EQ(f.Push("one\n\ntwo"), "one");
  EXPECT_TRUE(f.stopped());
}

TEST(StopStringFilterTest, EmptyStopStringsAreIgnored) {
  StopStringFilter f({"", ""});
  EXPECT_EQ(f.Push("abc"), "abc");
  EXPECT_FALSE(f.stopped());
  EXPECT_EQ(f.Flush(), "");
}

}  // namespace
}  // namespace gemma3n
