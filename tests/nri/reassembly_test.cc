// ttrpc message reassembly and the mux reader: arbitrary frame and read boundaries, the sending
// rule, limits and truncation.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "nri/mux.h"
#include "nri/ttrpc.h"

namespace topod::nri {
namespace {

std::string request(uint32_t stream, size_t payload_size) {
  auto message = ttrpc::encodeRequest(stream, {"svc", "m", std::string(payload_size, 'p'), 0});
  EXPECT_TRUE(message.has_value());
  return *message;
}

std::string frame(uint32_t conn, std::string_view payload) {
  std::string out;
  for (uint32_t v : {conn, static_cast<uint32_t>(payload.size())}) {
    for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>(v >> shift));
  }
  out.append(payload);
  return out;
}

TEST(MuxSendingRule, SmallMessageIsOneFrame) {
  std::string out;
  mux::appendMessageFrames(out, 1, std::string(100, 'a'));
  EXPECT_EQ(out, frame(1, std::string(100, 'a')));
}

TEST(MuxSendingRule, LargeMessageIsFirst4096ThenOneFrame) {
  const std::string message(10000, 'b');
  std::string out;
  mux::appendMessageFrames(out, 2, message);
  EXPECT_EQ(out, frame(2, message.substr(0, 4096)) + frame(2, message.substr(4096)));
}

TEST(MuxSendingRule, EmptyMessageEmitsNoFrame) {
  std::string out;
  mux::appendMessageFrames(out, 1, "");
  EXPECT_TRUE(out.empty());
}

struct SplitCase {
  const char* name;
  size_t chunk;  // bytes per feed()
};

class DemuxSplitTest : public ::testing::TestWithParam<SplitCase> {};

TEST_P(DemuxSplitTest, ReassemblesMessagesWhateverTheChunking) {
  // Two messages on conn 1 packed into odd frames (one frame holding the end of the first and
  // the start of the second), one on conn 2, and a frame for an unknown connection.
  const std::string a = request(1, 5000);
  const std::string b = request(3, 10);
  const std::string c = request(1, 20);
  std::string stream = frame(1, a.substr(0, 7)) + frame(1, a.substr(7) + b.substr(0, 5)) + frame(9, "ignored") +
                       frame(2, c) + frame(1, b.substr(5));
  mux::Demux demux;
  std::vector<mux::ConnMessage> got;
  for (size_t i = 0; i < stream.size(); i += GetParam().chunk) {
    ASSERT_TRUE(demux.feed(std::string_view(stream).substr(i, GetParam().chunk)).has_value());
    while (auto message = demux.next()) got.push_back(std::move(*message));
  }
  ASSERT_EQ(got.size(), 3u);
  std::vector<std::pair<uint32_t, uint32_t>> ids;
  for (const auto& m : got) {
    ids.emplace_back(m.conn, m.message.header.stream_id);
    if (m.conn == 1 && m.message.header.stream_id == 1) {
      EXPECT_EQ(m.message.data, a.substr(ttrpc::kHeaderSize));
    }
  }
  // Order across connections depends on when each completes; within a connection it is kept.
  std::sort(ids.begin(), ids.end());
  EXPECT_EQ(ids, (std::vector<std::pair<uint32_t, uint32_t>>{{1, 1}, {1, 3}, {2, 1}}));
  EXPECT_FALSE(demux.midMessage());
  EXPECT_EQ(demux.droppedFrames(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Chunks, DemuxSplitTest,
                         ::testing::Values(SplitCase{"byte_by_byte", 1}, SplitCase{"three_bytes", 3},
                                           SplitCase{"odd_4097", 4097}, SplitCase{"all_at_once", 1 << 20}),
                         [](const auto& row) { return std::string(row.param.name); });

TEST(Demux, FrameLengthOverLimitIsAnError) {
  mux::Demux demux;
  std::string header = frame(1, "").substr(0, 4) + std::string("\x01\x00\x00\x01", 4);
  auto status = demux.feed(header);
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::DataLoss);
}

// What arrived intact before a corrupt header is still delivered, so that it can be answered;
// nothing after the header is, and the stream stays broken.
TEST(Demux, MessagesBeforeACorruptHeaderSurviveIt) {
  mux::Demux demux;
  const std::string corrupt = std::string("\0\0\0\1\x7f\xff\xff\xff", 8);
  auto status = demux.feed(frame(1, request(1, 20)) + frame(2, request(3, 5)) + corrupt + frame(1, request(5, 7)));
  ASSERT_FALSE(status.has_value());
  EXPECT_EQ(status.error().code(), ErrorCode::DataLoss);
  ASSERT_TRUE(demux.broken().has_value());
  auto first = demux.next();
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->conn, 1u);
  EXPECT_EQ(first->message.header.stream_id, 1u);
  auto second = demux.next();
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->conn, 2u);
  EXPECT_FALSE(demux.next().has_value());
  EXPECT_FALSE(demux.feed(frame(1, request(7, 1))).has_value());
  EXPECT_FALSE(demux.next().has_value());
}

TEST(Demux, TruncatedFrameIsMidMessage) {
  mux::Demux demux;
  const std::string full = frame(1, request(1, 50));
  ASSERT_TRUE(demux.feed(full.substr(0, full.size() - 3)).has_value());
  EXPECT_FALSE(demux.next().has_value());
  EXPECT_TRUE(demux.midMessage());
}

TEST(Demux, ZeroLengthFramesAreHarmless) {
  mux::Demux demux;
  ASSERT_TRUE(demux.feed(frame(1, "") + frame(1, request(1, 1))).has_value());
  EXPECT_TRUE(demux.next().has_value());
}

TEST(MessageReader, OversizedMessageIsDiscardedAndReported) {
  ttrpc::MessageReader reader;
  char header[ttrpc::kHeaderSize];
  const uint32_t length = ttrpc::kMaxDataLength + 100;
  ttrpc::encodeHeader({length, 5, 1, 0}, header);
  reader.feed(std::string_view(header, sizeof(header)));
  auto big = reader.next();
  ASSERT_TRUE(big.has_value());
  EXPECT_TRUE(big->oversized);
  EXPECT_EQ(big->header.stream_id, 5u);
  // The discarded bytes arrive in pieces and never surface; the next message does.
  const std::string junk(length, 'j');
  for (size_t i = 0; i < junk.size(); i += 1 << 20) reader.feed(std::string_view(junk).substr(i, 1 << 20));
  EXPECT_FALSE(reader.next().has_value());
  reader.feed(request(7, 3));
  auto after = reader.next();
  ASSERT_TRUE(after.has_value());
  EXPECT_FALSE(after->oversized);
  EXPECT_EQ(after->header.stream_id, 7u);
  EXPECT_FALSE(reader.midMessage());
}

TEST(MessageReader, ZeroLengthMessage) {
  ttrpc::MessageReader reader;
  auto empty = ttrpc::encodeResponse(9, {});
  ASSERT_TRUE(empty.has_value());
  reader.feed(*empty);
  auto message = reader.next();
  ASSERT_TRUE(message.has_value());
  EXPECT_EQ(message->header.stream_id, 9u);
  EXPECT_TRUE(message->data.empty());
}

}  // namespace
}  // namespace topod::nri
