// Registry: topod's metrics (counters, gauges, histograms, each with fixed label values) and their
// Prometheus text exposition, format version 0.0.4: `# HELP` and `# TYPE` per family, label values
// escaped (\\, \", \n), histograms as cumulative `_bucket{le="..."}` series ending at `+Inf`, then
// `_sum` and `_count`. Families are written in name order and series in label order, so the
// output for a given set of values is always the same text (tests compare it whole).
//
// Metrics are registered once, at start-up, by whoever owns the code that records them; the
// returned reference stays valid for the registry's lifetime. Registering the same name and labels
// again returns the same metric. A name, label name or bucket list that breaks the format's rules,
// or a name registered again with another type, help text or label names, is a programming error
// (TOPOD_CHECK): it never depends on input.
//
// Values that live elsewhere (a count another module keeps, the size of a pool) are registered as
// callbacks, read when the text is rendered, instead of being copied on every change.
//
// Thread-safety: recording (inc, set, observe) is lock-free for counters and gauges and takes one
// short per-histogram lock; registration and render() may run from any thread at any time.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace topod::metrics {

// Label name -> value. A std::map, so one set of labels has one order and one identity.
using Labels = std::map<std::string, std::string>;

class Counter {
 public:
  void inc(uint64_t by = 1) { value_.fetch_add(by, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<uint64_t> value_{0};
};

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void add(double by);
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  // `bounds`: the buckets' upper bounds, strictly increasing and finite; `+Inf` is implied.
  explicit Histogram(std::vector<double> bounds);
  // Counts `value` in the first bucket whose bound is >= value (Prometheus buckets are "less
  // than or equal"). NaN is counted in `+Inf` only, and added to the sum (as the Go client does).
  void observe(double value);

  struct Snapshot {
    std::vector<double> bounds;
    std::vector<uint64_t> cumulative;  // one per bound, then one for +Inf (== count)
    double sum = 0;
    uint64_t count = 0;
  };
  // A consistent view: count equals the +Inf bucket and every bucket includes the ones below it.
  Snapshot snapshot() const;
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  const std::vector<double> bounds_;
  mutable std::mutex mutex_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; the last is +Inf
  double sum_ = 0;
};

// Bucket lists.
// `count` bounds: start, start*factor, ... (factor > 1, start > 0).
std::vector<double> exponentialBuckets(double start, double factor, int count);

class Registry {
 public:
  Registry() = default;
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  Counter& counter(std::string_view name, std::string_view help, const Labels& labels = {});
  Gauge& gauge(std::string_view name, std::string_view help, const Labels& labels = {});
  // Every series of a histogram family has the same bounds.
  Histogram& histogram(std::string_view name, std::string_view help, const std::vector<double>& bounds,
                       const Labels& labels = {});
  // Read at every render(); must be thread-safe and fast (it runs on the scraping thread). A
  // counter's callback must never go down.
  void counterCallback(std::string_view name, std::string_view help, std::function<double()> read,
                       const Labels& labels = {});
  void gaugeCallback(std::string_view name, std::string_view help, std::function<double()> read,
                     const Labels& labels = {});

  // The exposition text (Content-Type: kContentType).
  std::string render() const;

  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

 private:
  enum class Type { Counter, Gauge, Histogram };
  struct Series {
    std::unique_ptr<Counter> counter;
    std::unique_ptr<Gauge> gauge;
    std::unique_ptr<Histogram> histogram;
    std::function<double()> read;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<std::string> label_names;  // of the first series; every series must have the same
    std::vector<double> bounds;            // histograms
    std::map<Labels, Series> series;
  };
  Series& seriesLocked(std::string_view name, std::string_view help, Type type, const Labels& labels,
                       const std::vector<double>* bounds);

  mutable std::mutex mutex_;
  std::map<std::string, Family, std::less<>> families_;
};

// The text format's rules, exposed for tests and callers that build names.
bool isValidMetricName(std::string_view name);
bool isValidLabelName(std::string_view name);
// Label value escaping: backslash, double quote and line feed.
std::string escapeLabelValue(std::string_view value);
// A sample value: integers without a fraction, others in the shortest form that reads back the
// same, and "+Inf", "-Inf", "NaN".
std::string formatValue(double value);

}  // namespace topod::metrics
