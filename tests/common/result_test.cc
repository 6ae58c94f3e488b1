#include "common/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace topod {
namespace {

Result<int> half(int value) {
  if (value % 2 != 0) return Error::invalidArgument("odd value " + std::to_string(value));
  return value / 2;
}

Status quarter(int value, int* out) {
  auto h = half(value);
  TOPOD_RETURN_IF_ERROR(h);
  auto q = half(*h);
  TOPOD_RETURN_IF_ERROR(q);
  *out = *q;
  return okStatus();
}

TEST(ResultTest, CarriesValueOrError) {
  auto ok = half(4);
  ASSERT_TRUE(ok.has_value());
  EXPECT_EQ(*ok, 2);
  auto bad = half(3);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code(), ErrorCode::InvalidArgument);
  EXPECT_EQ(bad.error().toString(), "INVALID_ARGUMENT: odd value 3");
  EXPECT_EQ(bad.value_or(7), 7);
}

TEST(ResultTest, ReturnIfErrorPropagatesTheFirstError) {
  int out = 0;
  EXPECT_TRUE(quarter(8, &out).has_value());
  EXPECT_EQ(out, 2);
  Status status = quarter(6, &out);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().message(), "odd value 3");
}

TEST(ResultTest, MoveOnlyValues) {
  Result<std::unique_ptr<int>> r(std::make_unique<int>(5));
  std::unique_ptr<int> taken = std::move(r).value();
  EXPECT_EQ(*taken, 5);
}

TEST(ErrorTest, ContextAndErrno) {
  Error e = Error::fromErrno(ENOENT, "open /nonexistent").withContext("loading state");
  EXPECT_EQ(e.code(), ErrorCode::NotFound);
  EXPECT_EQ(e.sysErrno(), ENOENT);
  EXPECT_EQ(e.message(), "loading state: open /nonexistent: No such file or directory");
}

TEST(ResultDeathTest, WrongAccessTerminatesWithTheError) {
  auto bad = half(3);
  EXPECT_DEATH((void)bad.value(), "odd value 3");
  auto ok = half(2);
  EXPECT_DEATH((void)ok.error(), "error\\(\\) on a Result holding a value");
}

}  // namespace
}  // namespace topod
