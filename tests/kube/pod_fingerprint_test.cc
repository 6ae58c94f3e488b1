#include "kube/pod_fingerprint.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace topod::kube {
namespace {

TEST(XxHash64Test, ReferenceVectors) {
  // Published XXH64 test values (seed 0), short and long (> 32 bytes: the four-lane path).
  EXPECT_EQ(xxhash64(""), 0xEF46DB3751D8E999ULL);
  EXPECT_EQ(xxhash64("a"), 0xD24EC4F1A98C6E5BULL);
  EXPECT_EQ(xxhash64("abc"), 0x44BC2CF5AD770999ULL);
}

// The podfingerprint library's compatibility data (testdata/compat-*.txt and .sign of
// k8stopologyawareschedwg/podfingerprint, Apache-2.0): namespace and name of each pod, and the
// fingerprint the library computes for them.
TEST(PodFingerprintTest, MatchesThePodfingerprintLibrary) {
  std::vector<PodName> tiny = {
      {"production", "jaeger-dpgjk"}, {"production", "nginx-rt684"}, {"production", "envoy-g9m22"}};
  EXPECT_EQ(podFingerprint(tiny), "pfp0v001607b76a0e9d3aeb4");
  std::vector<PodName> small = {{"analytics", "controller-69dkj"},    {"kube-public", "subscriber-tq6v7"},
                                {"kube-public", "transformer-hfbng"}, {"kube-public", "validator-c6pn5"},
                                {"kube-system", "proxy-wszrd"},       {"middleware", "processor-jkrl4"},
                                {"network", "gateway-vsll5"},         {"network", "importer-kzdfr"},
                                {"network", "importer-q5vt9"},        {"staging", "prometheus-bwgbn"}};
  EXPECT_EQ(podFingerprint(small), "pfp0v001567144e4a561bb5a");
}

TEST(PodFingerprintTest, OrderDoesNotMatterAndNamespaceDoes) {
  std::vector<PodName> pods = {{"a", "p1"}, {"b", "p2"}, {"c", "p3"}, {"a", "p4"}};
  std::string expected = podFingerprint(pods);
  std::mt19937 random(7);
  for (int i = 0; i < 10; ++i) {
    std::shuffle(pods.begin(), pods.end(), random);
    EXPECT_EQ(podFingerprint(pods), expected);
  }
  EXPECT_NE(podFingerprint({{"a", "p1"}}), podFingerprint({{"b", "p1"}}));
  EXPECT_EQ(podFingerprint({}).size(), 24u);
}

}  // namespace
}  // namespace topod::kube
