#include "nri/connection.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <string>

namespace topod::nri {
namespace {
// Big enough that a typical event (a few KiB) arrives in one read.
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

Connection::Connection(UniqueFd fd) : fd_(std::move(fd)), read_buf_(kReadChunk) {}

Status Connection::send(uint32_t conn, std::string_view message) {
  std::string frames;
  mux::appendMessageFrames(frames, conn, message);
  std::lock_guard<std::mutex> lock(write_mu_);
  size_t written = 0;
  while (written < frames.size()) {
    const ssize_t n = ::send(fd_.get(), frames.data() + written, frames.size() - written, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Error::fromErrno(errno, "writing " + std::to_string(frames.size()) + " bytes to the NRI socket");
    }
    written += static_cast<size_t>(n);
  }
  bytes_sent_.fetch_add(frames.size(), std::memory_order_relaxed);
  return okStatus();
}

Result<bool> Connection::readSome() {
  if (demux_.broken()) return *demux_.broken();
  ssize_t n = 0;
  do {
    n = ::read(fd_.get(), read_buf_.data(), read_buf_.size());
  } while (n < 0 && errno == EINTR);
  if (n < 0) return Error::fromErrno(errno, "reading from the NRI socket");
  if (n == 0) {
    if (demux_.midMessage()) {
      return Error::dataLoss(
          "the NRI peer closed the connection in the middle of a message "
          "(truncated frame or ttrpc message)");
    }
    return false;
  }
  bytes_received_.fetch_add(static_cast<uint64_t>(n), std::memory_order_relaxed);
  // A corrupt header is not returned here: nextMessage() reports it once the messages before it are
  // out (demux_.broken() holds it).
  (void)demux_.feed(std::string_view(read_buf_.data(), static_cast<size_t>(n)));
  return true;
}

Result<std::optional<mux::ConnMessage>> Connection::nextMessage() {
  if (auto message = demux_.next()) return std::optional<mux::ConnMessage>(std::move(*message));
  if (demux_.broken()) return *demux_.broken();
  return std::optional<mux::ConnMessage>();
}

void Connection::shutdown() {
  ::shutdown(fd_.get(), SHUT_RDWR);
}

}  // namespace topod::nri
