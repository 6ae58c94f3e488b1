#include "metrics/registry.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

#include "common/check.h"

namespace topod::metrics {

namespace {

bool isNameStart(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool isDigit(char c) {
  return c >= '0' && c <= '9';
}

// HELP text escaping: backslash and line feed (quotes stay as they are there).
std::string escapeHelp(std::string_view help) {
  std::string out;
  out.reserve(help.size());
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string_view typeName(bool histogram, bool counter) {
  return histogram ? "histogram" : counter ? "counter" : "gauge";
}

// `{a="x",b="y"}` with an optional extra label last (a histogram's le), or "" when empty.
std::string labelText(const Labels& labels, std::string_view extra_name = {}, std::string_view extra_value = {}) {
  if (labels.empty() && extra_name.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [name, value] : labels) {
    if (!first) out += ',';
    first = false;
    out += name;
    out += "=\"";
    out += escapeLabelValue(value);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
  return out;
}

}  // namespace

bool isValidMetricName(std::string_view name) {
  if (name.empty() || !(isNameStart(name[0]) || name[0] == ':')) return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return isNameStart(c) || isDigit(c) || c == ':'; });
}

bool isValidLabelName(std::string_view name) {
  // Names starting with "__" are reserved for Prometheus itself; "le" is the histogram's own.
  if (name.empty() || !isNameStart(name[0]) || name.starts_with("__") || name == "le") return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return isNameStart(c) || isDigit(c); });
}

std::string escapeLabelValue(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string formatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  // Whole numbers below 2^53 print exactly as integers (counts, CPU numbers).
  constexpr double kExactIntegers = 9007199254740992.0;
  if (value == std::floor(value) && std::fabs(value) < kExactIntegers) {
    return std::to_string(static_cast<int64_t>(value));
  }
  char buffer[32];
  auto [end, error] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  TOPOD_CHECK(error == std::errc());
  return std::string(buffer, end);
}

void Gauge::add(double by) {
  double current = value_.load(std::memory_order_relaxed);
  while (!value_.compare_exchange_weak(current, current + by, std::memory_order_relaxed)) {
  }
}

Histogram::Histogram(std::vector<double> bounds) : bounds_(std::move(bounds)), counts_(bounds_.size() + 1, 0) {
  for (std::size_t i = 0; i < bounds_.size(); ++i) {
    TOPOD_CHECK(std::isfinite(bounds_[i]));
    TOPOD_CHECK(i == 0 || bounds_[i - 1] < bounds_[i]);
  }
}

void Histogram::observe(double value) {
  // upper_bound on "value <= bound": the first bound not less than the value.
  std::size_t bucket = bounds_.size();
  if (!std::isnan(value)) {
    bucket = static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) - bounds_.begin());
  }
  std::lock_guard lock(mutex_);
  ++counts_[bucket];
  sum_ += value;
}

Histogram::Snapshot Histogram::snapshot() const {
  Snapshot snapshot;
  snapshot.bounds = bounds_;
  std::lock_guard lock(mutex_);
  snapshot.cumulative.reserve(counts_.size());
  uint64_t running = 0;
  for (uint64_t count : counts_) {
    running += count;
    snapshot.cumulative.push_back(running);
  }
  snapshot.count = running;
  snapshot.sum = sum_;
  return snapshot;
}

std::vector<double> exponentialBuckets(double start, double factor, int count) {
  TOPOD_CHECK(start > 0 && factor > 1 && count > 0);
  std::vector<double> bounds;
  bounds.reserve(static_cast<std::size_t>(count));
  double bound = start;
  for (int i = 0; i < count; ++i) {
    bounds.push_back(bound);
    bound *= factor;
  }
  return bounds;
}

Registry::Series& Registry::seriesLocked(std::string_view name, std::string_view help, Type type, const Labels& labels,
                                         const std::vector<double>* bounds) {
  TOPOD_CHECK(isValidMetricName(name));
  std::vector<std::string> label_names;
  for (const auto& [label, value] : labels) {
    (void)value;
    TOPOD_CHECK(isValidLabelName(label));
    label_names.push_back(label);
  }
  auto it = families_.find(name);
  if (it == families_.end()) {
    Family family{.type = type,
                  .help = std::string(help),
                  .label_names = label_names,
                  .bounds = bounds != nullptr ? *bounds : std::vector<double>{},
                  .series = {}};
    it = families_.emplace(std::string(name), std::move(family)).first;
  }
  Family& family = it->second;
  // One name, one meaning: the same type, help, label names (and bounds) for every series.
  TOPOD_CHECK(family.type == type);
  TOPOD_CHECK(family.help == help);
  TOPOD_CHECK(family.label_names == label_names);
  TOPOD_CHECK(bounds == nullptr || family.bounds == *bounds);
  return family.series[labels];
}

Counter& Registry::counter(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = seriesLocked(name, help, Type::Counter, labels, nullptr);
  TOPOD_CHECK(!series.read);
  if (!series.counter) series.counter = std::make_unique<Counter>();
  return *series.counter;
}

Gauge& Registry::gauge(std::string_view name, std::string_view help, const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = seriesLocked(name, help, Type::Gauge, labels, nullptr);
  TOPOD_CHECK(!series.read);
  if (!series.gauge) series.gauge = std::make_unique<Gauge>();
  return *series.gauge;
}

Histogram& Registry::histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                               const Labels& labels) {
  std::lock_guard lock(mutex_);
  Series& series = seriesLocked(name, help, Type::Histogram, labels, &bounds);
  if (!series.histogram) series.histogram = std::make_unique<Histogram>(bounds);
  return *series.histogram;
}

void Registry::counterCallback(std::string_view name, std::string_view help, std::function<double()> read,
                               const Labels& labels) {
  TOPOD_CHECK(read != nullptr);
  std::lock_guard lock(mutex_);
  Series& series = seriesLocked(name, help, Type::Counter, labels, nullptr);
  TOPOD_CHECK(!series.counter);
  series.read = std::move(read);
}

void Registry::gaugeCallback(std::string_view name, std::string_view help, std::function<double()> read,
                             const Labels& labels) {
  TOPOD_CHECK(read != nullptr);
  std::lock_guard lock(mutex_);
  Series& series = seriesLocked(name, help, Type::Gauge, labels, nullptr);
  TOPOD_CHECK(!series.gauge);
  series.read = std::move(read);
}

std::string Registry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, family] : families_) {
    const bool histogram = family.type == Type::Histogram;
    out += "# HELP " + name + " " + escapeHelp(family.help) + "\n";
    out += "# TYPE " + name + " ";
    out += typeName(histogram, family.type == Type::Counter);
    out += "\n";
    for (const auto& [labels, series] : family.series) {
      if (histogram) {
        Histogram::Snapshot snapshot = series.histogram->snapshot();
        for (std::size_t i = 0; i < snapshot.cumulative.size(); ++i) {
          std::string le = i < snapshot.bounds.size() ? formatValue(snapshot.bounds[i]) : "+Inf";
          out += name + "_bucket" + labelText(labels, "le", le) + " " + std::to_string(snapshot.cumulative[i]) + "\n";
        }
        out += name + "_sum" + labelText(labels) + " " + formatValue(snapshot.sum) + "\n";
        out += name + "_count" + labelText(labels) + " " + std::to_string(snapshot.count) + "\n";
        continue;
      }
      double value = 0;
      if (series.read) {
        value = series.read();
      } else if (series.counter) {
        value = static_cast<double>(series.counter->value());
      } else if (series.gauge) {
        value = series.gauge->value();
      }
      out += name + labelText(labels) + " " + formatValue(value) + "\n";
    }
  }
  return out;
}

}  // namespace topod::metrics
