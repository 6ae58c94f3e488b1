#include "agent/eviction_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "common/file_io.h"
#include "common/json.h"

namespace topod::agent {
namespace {

constexpr const char* kUid = "0b7c0a2e-0000-4000-8000-000000000001";

TEST(EvictionFiles, ProgressIsReadStrictly) {
  auto progress = parseProgress(R"({"state":"running","percent":40,"message":"saving shard 3"})");
  ASSERT_TRUE(progress) << progress.error().toString();
  EXPECT_EQ(*progress, (Progress{WorkloadState::Running, 40, "saving shard 3"}));
  progress = parseProgress(R"({"state":"done"})");
  ASSERT_TRUE(progress);
  EXPECT_EQ(progress->state, WorkloadState::Done);
  EXPECT_FALSE(progress->percent.has_value());

  for (const char* bad :
       {"", "[]", "{}", R"({"state":"paused"})", R"({"state":"done","percent":101})",
        R"({"state":"done","percent":4.5})", R"({"state":"done","extra":1})", R"({"state":"done","state":"running"})",
        R"({"state":"done","message":"a\nb"})", R"({"state":1})", "{\"state\":\"done\",\"message\":\"\xff\"}"}) {
    EXPECT_FALSE(parseProgress(bad)) << bad;
  }
  EXPECT_FALSE(parseProgress(R"({"state":"done","message":")" + std::string(kMaxProgressMessage + 1, 'a') + "\"}"));
  EXPECT_FALSE(parseProgress(std::string(kMaxProgressBytes + 1, ' ')));
}

class EvictionFilesOnDisk : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/topod-evict-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }

  Warning warning() const {
    Warning w;
    w.pod_namespace = "ml";
    w.pod_name = "train";
    w.pod_uid = kUid;
    w.eviction_namespace = "ml";
    w.eviction_name = "pod-1-train";
    w.mode = WarningMode::File;
    w.warned_at = *kube::parseWallTime("2026-12-06T22:00:00Z");
    w.deadline = w.warned_at + std::chrono::seconds(600);
    return w;
  }

  std::string root_;
};

TEST_F(EvictionFilesOnDisk, TheNoticeIsWrittenWholeAndTheProgressReadBack) {
  auto files = makeWorkloadFiles(root_);
  ASSERT_TRUE(files->writeNotice(warning(), NoticeKind::Warning, "eviction requested"));
  const std::string dir = root_ + "/" + kUid;
  struct stat st {};
  ASSERT_EQ(::stat(dir.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0777u);
  auto text = readRegularFile(dir + "/notice.json");
  ASSERT_TRUE(text);
  auto notice = json::parseStrict(*text, "notice");
  ASSERT_TRUE(notice);
  EXPECT_EQ((*notice)["state"], "warning");
  EXPECT_EQ((*notice)["deadline"], "2026-12-06T22:10:00Z");
  EXPECT_EQ((*notice)["deadlineSeconds"], 600);
  EXPECT_EQ((*notice)["pod"]["uid"], kUid);

  auto none = files->readProgress(kUid);
  ASSERT_TRUE(none);
  EXPECT_FALSE(none->has_value());
  std::ofstream(dir + "/progress.json") << R"({"state":"running","percent":10})";
  auto progress = files->readProgress(kUid);
  ASSERT_TRUE(progress) << progress.error().toString();
  ASSERT_TRUE(progress->has_value());
  EXPECT_EQ((*progress)->percent, 10);

  ASSERT_TRUE(files->writeNotice(warning(), NoticeKind::Cancelled, "withdrawn"));
  notice = json::parseStrict(*readRegularFile(dir + "/notice.json"), "notice");
  EXPECT_EQ((*notice)["state"], "cancelled");
  // No temporary file is left behind.
  int entries = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator(dir)) ++entries;
  EXPECT_EQ(entries, 2);

  ASSERT_TRUE(files->remove(kUid));
  EXPECT_FALSE(std::filesystem::exists(dir));
  EXPECT_TRUE(files->remove(kUid));
}

TEST_F(EvictionFilesOnDisk, AHostileWorkloadCannotRedirectReadsOrWrites) {
  auto files = makeWorkloadFiles(root_);
  ASSERT_TRUE(files->writeNotice(warning(), NoticeKind::Warning, "eviction requested"));
  const std::string dir = root_ + "/" + kUid;
  const std::string secret = root_ + "/secret";
  std::ofstream(secret) << R"({"state":"done"})";
  ASSERT_EQ(::symlink(secret.c_str(), (dir + "/progress.json").c_str()), 0);
  EXPECT_FALSE(files->readProgress(kUid));
  std::filesystem::remove(dir + "/progress.json");
  // A symlink where the notice goes is replaced, not followed.
  std::filesystem::remove(dir + "/notice.json");
  ASSERT_EQ(::symlink(secret.c_str(), (dir + "/notice.json").c_str()), 0);
  ASSERT_TRUE(files->writeNotice(warning(), NoticeKind::Warning, "again"));
  EXPECT_FALSE(std::filesystem::is_symlink(dir + "/notice.json"));
  EXPECT_EQ(*readRegularFile(secret), R"({"state":"done"})");
  // A directory or an oversized file instead of progress.json: an error, never a hang or a crash.
  std::filesystem::create_directory(dir + "/progress.json");
  EXPECT_FALSE(files->readProgress(kUid));
  std::filesystem::remove(dir + "/progress.json");
  std::ofstream(dir + "/progress.json") << std::string(kMaxProgressBytes + 10, ' ');
  EXPECT_FALSE(files->readProgress(kUid));
  // Uids that are not uids never become paths.
  Warning bad = warning();
  bad.pod_uid = "../../etc";
  EXPECT_FALSE(files->writeNotice(bad, NoticeKind::Warning, "x"));
  EXPECT_FALSE(files->readProgress("../x"));
  EXPECT_FALSE(isSafePodUid(""));
  EXPECT_TRUE(isSafePodUid(kUid));
}

}  // namespace
}  // namespace topod::agent
