#include "agent/logging.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/sinks/systemd_sink.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace topod::agent {

namespace {

spdlog::level::level_enum toSpdlog(LogLevel level) {
  switch (level) {
    case LogLevel::Trace: return spdlog::level::trace;
    case LogLevel::Debug: return spdlog::level::debug;
    case LogLevel::Info: return spdlog::level::info;
    case LogLevel::Warn: return spdlog::level::warn;
    case LogLevel::Error: return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

void setupLogging(LogLevel level, LogTarget target) {
  std::shared_ptr<spdlog::logger> logger;
  if (target == LogTarget::Journal) {
    auto sink = std::make_shared<spdlog::sinks::systemd_sink_mt>("topod");
    logger = std::make_shared<spdlog::logger>("topod", sink);
    // journald adds its own timestamp and priority.
    logger->set_pattern("%v");
  } else {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    logger = std::make_shared<spdlog::logger>("topod", sink);
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ topod %l: %v", spdlog::pattern_time_type::utc);
  }
  logger->set_level(toSpdlog(level));
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
}

void setLogLevel(LogLevel level) {
  spdlog::default_logger()->set_level(toSpdlog(level));
}

}  // namespace topod::agent
