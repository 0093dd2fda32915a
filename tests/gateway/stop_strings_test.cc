// The stop-string filter over streamed text: nothing that may start a stop
// string is released early, a stop string split over several pushes is still
// found, and nothing after it is ever released; the number and length of
// stop strings a request may give are capped.
#include "gateway/stop_strings.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace gemma3n {
namespace {

using ::testing::HasSubstr;

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

TEST(StopStringFilterTest, AFailedPartialMatchFallsBackToTheLongestPrefixStillPossible) {
  StopStringFilter f({"aab"});
  EXPECT_EQ(f.Push("a"), "");
  EXPECT_EQ(f.Push("a"), "");
  EXPECT_EQ(f.Push("a"), "a");  // "aaa": only the last "aa" may still start "aab"
  EXPECT_EQ(f.Push("b"), "");
  EXPECT_TRUE(f.stopped());

  StopStringFilter g({"ababc"});
  EXPECT_EQ(g.Push("abab"), "");
  EXPECT_EQ(g.Push("abab"), "abab");  // "abababab": the last "abab" may still start "ababc"
  EXPECT_EQ(g.Push("cdef"), "");
  EXPECT_TRUE(g.stopped());
}

TEST(StopStringFilterTest, OnlyTheLongestPossibleStartIsHeldBack) {
  const std::string stop = std::string(kMaxStopStringBytes - 1, 'a') + "b";
  StopStringFilter f({stop});
  size_t sent = 0;
  for (int i = 0; i < 10000; ++i) sent += f.Push("a").size();
  EXPECT_EQ(sent, 10000 - (kMaxStopStringBytes - 1));
  EXPECT_EQ(f.Flush(), std::string(kMaxStopStringBytes - 1, 'a'));
}

google::protobuf::RepeatedPtrField<std::string> Stops(int n, size_t bytes) {
  google::protobuf::RepeatedPtrField<std::string> stops;
  for (int i = 0; i < n; ++i) *stops.Add() = std::string(bytes, static_cast<char>('a' + i));
  return stops;
}

TEST(ValidateStopStringsTest, AcceptsUpToTheLimits) {
  EXPECT_TRUE(ValidateStopStrings(Stops(0, 0)).ok());
  EXPECT_TRUE(ValidateStopStrings(Stops(kMaxStopStrings, kMaxStopStringBytes)).ok());
}

TEST(ValidateStopStringsTest, RefusesTooManyNamingTheLimit) {
  const absl::Status s = ValidateStopStrings(Stops(kMaxStopStrings + 1, 1));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("at most 16 stop strings"));
  EXPECT_THAT(s.message(), HasSubstr("got 17"));
}

TEST(ValidateStopStringsTest, RefusesATooLongOneNamingItAndTheLimit) {
  google::protobuf::RepeatedPtrField<std::string> stops = Stops(3, 4);
  stops[2] = std::string(kMaxStopStringBytes + 1, 'x');
  const absl::Status s = ValidateStopStrings(stops);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(s.message(), HasSubstr("config.stop[2] is 257 bytes"));
  EXPECT_THAT(s.message(), HasSubstr("at most 256 bytes"));
}

}  // namespace
}  // namespace gemma3n
