#include "metrics/registry.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <thread>
#include <vector>

namespace topod::metrics {
namespace {

TEST(RegistryTest, RendersEveryTypeAsTheTextFormat) {
  Registry registry;
  registry.counter("topod_requests_total", "Requests.", {{"event", "create"}}).inc(3);
  registry.counter("topod_requests_total", "Requests.", {{"event", "stop"}}).inc();
  registry.gauge("topod_pool_cpus", "CPUs in the pool.").set(12);
  Histogram& latency = registry.histogram("topod_latency_seconds", "Latency.", {0.001, 0.01, 0.1});
  latency.observe(0.0005);
  latency.observe(0.001);  // on a bound: counted in it ("le")
  latency.observe(0.05);
  latency.observe(7);
  registry.gaugeCallback("topod_answer", "From elsewhere.", [] { return 42.5; });

  EXPECT_EQ(registry.render(),
            "# HELP topod_answer From elsewhere.\n"
            "# TYPE topod_answer gauge\n"
            "topod_answer 42.5\n"
            "# HELP topod_latency_seconds Latency.\n"
            "# TYPE topod_latency_seconds histogram\n"
            "topod_latency_seconds_bucket{le=\"0.001\"} 2\n"
            "topod_latency_seconds_bucket{le=\"0.01\"} 2\n"
            "topod_latency_seconds_bucket{le=\"0.1\"} 3\n"
            "topod_latency_seconds_bucket{le=\"+Inf\"} 4\n"
            "topod_latency_seconds_sum 7.0515\n"
            "topod_latency_seconds_count 4\n"
            "# HELP topod_pool_cpus CPUs in the pool.\n"
            "# TYPE topod_pool_cpus gauge\n"
            "topod_pool_cpus 12\n"
            "# HELP topod_requests_total Requests.\n"
            "# TYPE topod_requests_total counter\n"
            "topod_requests_total{event=\"create\"} 3\n"
            "topod_requests_total{event=\"stop\"} 1\n");
}

TEST(RegistryTest, HistogramLabelsComeBeforeLe) {
  Registry registry;
  registry.histogram("h", "H.", {1}, {{"event", "x"}}).observe(2);
  EXPECT_EQ(registry.render(),
            "# HELP h H.\n# TYPE h histogram\n"
            "h_bucket{event=\"x\",le=\"1\"} 0\n"
            "h_bucket{event=\"x\",le=\"+Inf\"} 1\n"
            "h_sum{event=\"x\"} 2\n"
            "h_count{event=\"x\"} 1\n");
}

TEST(RegistryTest, EscapesLabelValuesAndHelp) {
  Registry registry;
  registry.counter("c", "Back\\slash and\nnew line \"quoted\".", {{"pod", "a\"b\\c\nd"}}).inc();
  EXPECT_EQ(registry.render(),
            "# HELP c Back\\\\slash and\\nnew line \"quoted\".\n"
            "# TYPE c counter\n"
            "c{pod=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(RegistryTest, SameNameAndLabelsIsTheSameMetric) {
  Registry registry;
  Counter& first = registry.counter("c", "C.", {{"a", "1"}});
  Counter& again = registry.counter("c", "C.", {{"a", "1"}});
  Counter& other = registry.counter("c", "C.", {{"a", "2"}});
  EXPECT_EQ(&first, &again);
  EXPECT_NE(&first, &other);
}

TEST(RegistryTest, FormatsValues) {
  EXPECT_EQ(formatValue(0), "0");
  EXPECT_EQ(formatValue(-3), "-3");
  EXPECT_EQ(formatValue(0.25), "0.25");
  EXPECT_EQ(formatValue(0.1), "0.1");
  EXPECT_EQ(formatValue(1e-06), "1e-06");
  EXPECT_EQ(formatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(formatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(formatValue(std::nan("")), "NaN");
  EXPECT_EQ(formatValue(1e300), "1e+300");
}

TEST(RegistryTest, NamesFollowTheFormatsRules) {
  EXPECT_TRUE(isValidMetricName("topod_nri_request_duration_seconds"));
  EXPECT_TRUE(isValidMetricName("a:b_c9"));
  EXPECT_FALSE(isValidMetricName(""));
  EXPECT_FALSE(isValidMetricName("9lives"));
  EXPECT_FALSE(isValidMetricName("with-dash"));
  EXPECT_TRUE(isValidLabelName("event"));
  EXPECT_FALSE(isValidLabelName("__name__"));
  EXPECT_FALSE(isValidLabelName("le"));
  EXPECT_FALSE(isValidLabelName("a:b"));
}

TEST(RegistryDeathTest, MisuseIsAProgrammingError) {
  EXPECT_DEATH(
      {
        Registry registry;
        registry.counter("bad name", "B.");
      },
      "check failed");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.counter("x", "X.");
        registry.gauge("x", "X.");
      },
      "check failed");
  EXPECT_DEATH(
      {
        Registry registry;
        registry.counter("x", "X.", {{"a", "1"}});
        registry.counter("x", "X.", {{"b", "1"}});
      },
      "check failed");
  EXPECT_DEATH(Histogram({1, 1}), "check failed");
}

TEST(HistogramTest, BucketsAreLessOrEqualAndNanGoesToInf) {
  Histogram histogram({1, 2});
  for (double v : {-5.0, 1.0, 1.5, 2.0, 2.5}) histogram.observe(v);
  histogram.observe(std::nan(""));
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.cumulative, (std::vector<uint64_t>{2, 4, 6}));
  EXPECT_EQ(snapshot.count, 6U);
  EXPECT_TRUE(std::isnan(snapshot.sum));
}

TEST(HistogramTest, ExponentialBuckets) {
  EXPECT_EQ(exponentialBuckets(0.5, 2, 4), (std::vector<double>{0.5, 1, 2, 4}));
}

// Recording from many threads while another renders: nothing is lost and every rendering is
// self-consistent (count == +Inf bucket). Run under TSan in the sanitizer configuration.
TEST(RegistryTest, ConcurrentRecordingAndRendering) {
  Registry registry;
  Counter& counter = registry.counter("c_total", "C.");
  Gauge& gauge = registry.gauge("g", "G.");
  Histogram& histogram = registry.histogram("h", "H.", {0.5});
  constexpr int kThreads = 4;
  constexpr int kPerThread = 20000;
  std::atomic<bool> done{false};
  std::thread renderer([&] {
    while (!done) {
      std::string text = registry.render();
      auto count_at = text.find("h_count ");
      auto inf_at = text.find("h_bucket{le=\"+Inf\"} ");
      ASSERT_NE(count_at, std::string::npos);
      ASSERT_NE(inf_at, std::string::npos);
      std::string count = text.substr(count_at + 8, text.find('\n', count_at) - count_at - 8);
      std::string inf = text.substr(inf_at + 20, text.find('\n', inf_at) - inf_at - 20);
      ASSERT_EQ(count, inf);
    }
  });
  std::vector<std::thread> writers;
  for (int t = 0; t < kThreads; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        counter.inc();
        gauge.add(1);
        histogram.observe(t % 2 == 0 ? 0.25 : 1.0);
      }
    });
  }
  for (auto& writer : writers) writer.join();
  done = true;
  renderer.join();
  EXPECT_EQ(counter.value(), uint64_t{kThreads * kPerThread});
  EXPECT_EQ(gauge.value(), double{kThreads * kPerThread});
  auto snapshot = histogram.snapshot();
  EXPECT_EQ(snapshot.count, uint64_t{kThreads * kPerThread});
  EXPECT_EQ(snapshot.cumulative[0], uint64_t{kThreads / 2 * kPerThread});
}

}  // namespace
}  // namespace topod::metrics
