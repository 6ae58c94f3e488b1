// The runtime's failed answers, worded as containerd and runc word them, and the stable reason
// each gets.
#include "cri/checkpoint_error.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "cri/runtime_client.h"

namespace topod::cri {
namespace {

struct Row {
  const char* name;
  int code;
  const char* message;
  std::string_view reason;
  ErrorCode expected_code;
};

TEST(CheckpointError, EachAnswerGetsItsStableReason) {
  const Row rows[] = {
      {"containerd_1_7_unimplemented", 12, "method CheckpointContainer not implemented", kCheckpointUnsupported,
       ErrorCode::Unimplemented},
      {"socket_missing", 14, "connection error: desc = \"transport: Error while dialing: dial unix /x.sock\"",
       kRuntimeUnreachable, ErrorCode::Unavailable},
      {"grpc_deadline", 4, "Deadline Exceeded", kCheckpointTimeout, ErrorCode::DeadlineExceeded},
      {"cancelled_on_stop", 1, "Cancelled", kCheckpointCancelled, ErrorCode::Cancelled},
      {"container_gone", 5, "an error occurred when try to find container \"abc\": not found", kContainerNotFound,
       ErrorCode::NotFound},
      {"criu_not_in_path", 2,
       "failed to checkpoint: runc did not terminate successfully: exit status 1: exec: \"criu\": executable file "
       "not found in $PATH",
       kCriuMissing, ErrorCode::FailedPrecondition},
      {"containerd_2_1_without_criu", 9,
       "CRIU binary not found or too old (<31600). Failed to checkpoint container \"0cd8\": failed to check for "
       "criu version: exec: \"criu\": executable file not found in $PATH",
       kCriuMissing, ErrorCode::FailedPrecondition},
      {"containerd_2_1_criu_dump_failed", 2,
       "checkpointing container \"00ce\" failed: /usr/sbin/runc did not terminate successfully: exit status 1: criu "
       "failed: type DUMP errno 0 path= /tmp/x/criu-dump.log",
       kCheckpointFailed, ErrorCode::Unknown},
      {"criu_version_check", 13, "CRIU version check failed: fork/exec criu: no such file or directory", kCriuMissing,
       ErrorCode::FailedPrecondition},
      {"criu_dump_failed", 2, "criu failed: type NOTIFY errno 0 path= /run/.../criu-dump.log", kCheckpointFailed,
       ErrorCode::Unknown},
      {"ok_is_never_ok", 0, "", kCheckpointFailed, ErrorCode::Unknown},
      {"unknown_code", 99, "what", kCheckpointFailed, ErrorCode::Unknown},
  };
  for (const Row& row : rows) {
    const Error error = classifyCheckpointError(row.code, row.message);
    EXPECT_EQ(error.reason(), row.reason) << row.name;
    EXPECT_EQ(error.code(), row.expected_code) << row.name;
    EXPECT_NE(std::find(kCheckpointReasons.begin(), kCheckpointReasons.end(), error.reason()), kCheckpointReasons.end())
        << row.name;
  }
  EXPECT_NE(classifyCheckpointError(12, "x").message().find("containerd 1.7 does not"), std::string::npos);
  EXPECT_NE(classifyCheckpointError(0, "").message().find("(no message)"), std::string::npos);
}

TEST(CheckpointError, LongOrBinaryMessagesAreCutAndMadePrintable) {
  const std::string message = std::string(1000, 'x') + "\n\x01";
  const Error error = classifyCheckpointError(2, message);
  EXPECT_LT(error.message().size(), kMaxRuntimeMessage + 100);
  EXPECT_NE(error.message().find("..."), std::string::npos);
  EXPECT_EQ(classifyCheckpointError(2, "a\nb").message().find('\n'), std::string::npos);
}

// The real gRPC client, without a runtime: nothing listens, so the answer is RuntimeUnreachable
// (what `topod run` turns into its start-up error for node default mode criu).
TEST(GrpcRuntimeClient, ASocketWithoutARuntimeIsUnreachable) {
  auto client = makeGrpcRuntimeClient("/nonexistent/topod-test/containerd.sock");
  ASSERT_TRUE(client.has_value());
  auto version = (*client)->version(std::chrono::milliseconds(300));
  ASSERT_FALSE(version.has_value());
  EXPECT_EQ(version.error().reason(), kRuntimeUnreachable);
  EXPECT_NE(version.error().message().find("/nonexistent/topod-test/containerd.sock"), std::string::npos);
  auto done = (*client)->checkpointContainer("abc", "/tmp/x.tar", std::chrono::seconds(1));
  ASSERT_FALSE(done.has_value());
  EXPECT_EQ(done.error().reason(), kRuntimeUnreachable) << done.error().toString();
  EXPECT_EQ((*client)->checkpointContainer("abc", "x.tar", std::chrono::seconds(1)).error().code(),
            ErrorCode::InvalidArgument);
  EXPECT_FALSE(makeGrpcRuntimeClient("containerd.sock").has_value());
}

}  // namespace
}  // namespace topod::cri
