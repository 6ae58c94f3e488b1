#include "state/state_file.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "state/lock_file.h"

namespace topod::agent {
namespace {

namespace fs = std::filesystem;

class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "topod-state-XXXXXX").string();
    char* made = ::mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr);
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
};

TEST(StateFileTest, MissingFileIsNotFound) {
  TempDir dir;
  StateFile file(dir.path(), "state.json");
  auto content = file.read();
  ASSERT_FALSE(content.has_value());
  EXPECT_EQ(content.error().code(), ErrorCode::NotFound);
}

TEST(StateFileTest, WriteThenReadRoundTrips) {
  TempDir dir;
  StateFile file(dir.path(), "state.json");
  ASSERT_TRUE(file.write("first").has_value());
  ASSERT_TRUE(file.write(std::string(200000, 'x')).has_value());
  auto content = file.read();
  ASSERT_TRUE(content.has_value());
  EXPECT_EQ(*content, std::string(200000, 'x'));
  // No temp file is left behind.
  int entries = 0;
  for (const auto& entry : fs::directory_iterator(dir.path())) {
    (void)entry;
    ++entries;
  }
  EXPECT_EQ(entries, 1);
}

TEST(StateFileTest, FailedWriteKeepsTheOldContent) {
  TempDir dir;
  StateFile file(dir.path(), "state.json");
  ASSERT_TRUE(file.write("old").has_value());
  // A directory where the temp file must go makes the write fail before the rename.
  fs::create_directory(dir.path() + "/.state.json.tmp");
  Status status = file.write("new");
  ASSERT_FALSE(status.has_value());
  EXPECT_NE(status.error().message().find(".state.json.tmp"), std::string::npos);
  EXPECT_EQ(file.read().value(), "old");
}

TEST(StateFileTest, MoveAsideKeepsTheBytesUnderANewName) {
  TempDir dir;
  StateFile file(dir.path(), "state.json");
  ASSERT_TRUE(file.write("garbage").has_value());
  auto first = file.moveAside();
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  EXPECT_NE(first->find("state.json.corrupt-"), std::string::npos);
  EXPECT_FALSE(file.read().has_value());
  ASSERT_TRUE(file.write("garbage again").has_value());
  auto second = file.moveAside();
  ASSERT_TRUE(second.has_value());
  EXPECT_NE(*first, *second);
  StateFile moved(dir.path(), fs::path(*first).filename().string());
  EXPECT_EQ(moved.read().value(), "garbage");
}

TEST(StateFileTest, EnsureDirectoryCreatesParents) {
  TempDir dir;
  std::string nested = dir.path() + "/a/b/c";
  ASSERT_TRUE(ensureDirectory(nested).has_value());
  EXPECT_TRUE(fs::is_directory(nested));
  EXPECT_TRUE(ensureDirectory(nested).has_value());
  StateFile file(dir.path(), "plain");
  ASSERT_TRUE(file.write("x").has_value());
  EXPECT_FALSE(ensureDirectory(file.path()).has_value());
}

TEST(LockFileTest, SecondHolderIsRefusedWithThePid) {
  TempDir dir;
  std::string path = dir.path() + "/topod.lock";
  auto first = LockFile::acquire(path);
  ASSERT_TRUE(first.has_value()) << first.error().toString();
  auto second = LockFile::acquire(path);
  ASSERT_FALSE(second.has_value());
  EXPECT_EQ(second.error().code(), ErrorCode::FailedPrecondition);
  EXPECT_NE(second.error().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.error().message();
}

TEST(LockFileTest, ReleasedWhenTheHolderGoes) {
  TempDir dir;
  std::string path = dir.path() + "/topod.lock";
  {
    auto first = LockFile::acquire(path);
    ASSERT_TRUE(first.has_value());
    LockFile moved = std::move(*first);
    EXPECT_EQ(moved.path(), path);
  }
  EXPECT_TRUE(LockFile::acquire(path).has_value());
}

}  // namespace
}  // namespace topod::agent
