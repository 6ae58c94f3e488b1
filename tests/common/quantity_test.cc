// The one Kubernetes quantity parser (common/quantity.h) and the huge page resource names built on
// it (common/resource_names.h). The rows include those the configuration's and the simulator's
// former parsers were tested with; each input they accepted means the same number here.
#include "common/quantity.h"

#include <gtest/gtest.h>

#include <ostream>
#include <string>

#include "common/resource_names.h"

namespace topod {
namespace {

struct ByteRow {
  std::string name;
  std::string text;
  bool ok;
  uint64_t bytes;
  std::string error = {};  // a substring of the message when !ok
};
void PrintTo(const ByteRow& row, std::ostream* os) {
  *os << row.name;
}

class ByteQuantityTest : public testing::TestWithParam<ByteRow> {};

TEST_P(ByteQuantityTest, ParsesExactly) {
  const ByteRow& row = GetParam();
  auto got = parseByteQuantity(row.text);
  ASSERT_EQ(got.has_value(), row.ok) << (got.has_value() ? std::to_string(*got) : got.error().toString());
  if (row.ok) {
    EXPECT_EQ(*got, row.bytes);
    EXPECT_EQ(parseByteQuantity(formatByteQuantity(*got)).value(), *got) << formatByteQuantity(*got);
    return;
  }
  EXPECT_EQ(got.error().code(), ErrorCode::InvalidArgument);
  EXPECT_NE(got.error().message().find("memory quantity \"" + row.text + "\": "), std::string::npos)
      << got.error().message();
  EXPECT_NE(got.error().message().find(row.error), std::string::npos) << got.error().message();
}

INSTANTIATE_TEST_SUITE_P(
    Rows, ByteQuantityTest,
    testing::Values(
        ByteRow{"Plain", "1024", true, 1024}, ByteRow{"Zero", "0", true, 0}, ByteRow{"Kibi", "4Ki", true, 4096},
        ByteRow{"Mebi", "512Mi", true, 512ULL << 20}, ByteRow{"Gibi", "8Gi", true, 8ULL << 30},
        ByteRow{"Ei", "15Ei", true, 15ULL << 60}, ByteRow{"Mega", "2M", true, 2000000},
        ByteRow{"DecimalG", "1G", true, 1000000000}, ByteRow{"Decimalk", "2k", true, 2000},
        ByteRow{"FractionalGi", "1.5Gi", true, 3ULL << 29}, ByteRow{"HalfKi", ".5Ki", true, 512},
        ByteRow{"TrailingDot", "5.", true, 5}, ByteRow{"PlusSign", "+1Ki", true, 1024},
        ByteRow{"MinusZero", "-0", true, 0}, ByteRow{"Exponent", "1e3", true, 1000},
        ByteRow{"CapitalExponent", "2E2", true, 200}, ByteRow{"NegativeExponent", "1200e-2", true, 12},
        ByteRow{"WholeMillibytes", "3000m", true, 3}, ByteRow{"LeadingZeros", "0000000000000000000001Ki", true, 1024},
        ByteRow{"U64Max", "18446744073709551615", true, UINT64_MAX}, ByteRow{"Empty", "", false, 0, "not a number"},
        ByteRow{"SuffixOnly", "Gi", false, 0, "not a number"}, ByteRow{"Negative", "-1", false, 0, "negative"},
        ByteRow{"TwoDots", "1.2.3", false, 0, "decimal point"},
        ByteRow{"Overflow", "99999999999999999999", false, 0, "too large"},
        ByteRow{"U64MaxPlusOne", "18446744073709551616", false, 0, "too large"},
        ByteRow{"SuffixOverflow", "16Ei", false, 0, "too large"},
        ByteRow{"HugeExponent", "1e99999999999", false, 0, "too large"},
        ByteRow{"FractionOfAByte", "1.5", false, 0, "not a whole number of bytes"},
        ByteRow{"Millibytes", "100m", false, 0, "not a whole number of bytes"},
        ByteRow{"TinyExponent", "1e-99999999", false, 0, "not a whole number of bytes"},
        ByteRow{"UnknownSuffix", "1Gb", false, 0, "unknown suffix \"Gb\""},
        ByteRow{"UpperK", "1K", false, 0, "unknown suffix"}, ByteRow{"Space", "1 Gi", false, 0, "unknown suffix"},
        ByteRow{"BareExponent", "1e", false, 0, "unknown suffix"},
        ByteRow{"TooManyDigits", "1234567890123456789012345678901234567", false, 0, "too many digits"}),
    [](const testing::TestParamInfo<ByteRow>& row) { return row.param.name; });

struct CpuRow {
  std::string name;
  std::string text;
  int64_t millis;  // -1: rejected
};
void PrintTo(const CpuRow& row, std::ostream* os) {
  *os << row.name;
}

class MilliQuantityTest : public testing::TestWithParam<CpuRow> {};

TEST_P(MilliQuantityTest, ParsesExactly) {
  auto got = parseMilliQuantity(GetParam().text);
  if (GetParam().millis < 0) {
    ASSERT_FALSE(got.has_value()) << *got;
    EXPECT_NE(got.error().message().find("CPU quantity \"" + GetParam().text + "\""), std::string::npos);
    return;
  }
  ASSERT_TRUE(got.has_value()) << got.error().toString();
  EXPECT_EQ(*got, GetParam().millis);
}

INSTANTIATE_TEST_SUITE_P(
    Rows, MilliQuantityTest,
    testing::Values(CpuRow{"Cores", "2", 2000}, CpuRow{"Millis", "250m", 250}, CpuRow{"Fraction", "1.5", 1500},
                    CpuRow{"LeadingDot", ".5", 500}, CpuRow{"Zero", "0", 0}, CpuRow{"Kilo", "1k", 1000000},
                    CpuRow{"Micro", "1000u", 1}, CpuRow{"Nano", "1000000n", 1},
                    // Kubernetes gives every suffix to every resource: 2Gi CPUs are 2^31 of them.
                    CpuRow{"BinarySuffix", "2Gi", 2147483648000}, CpuRow{"Largest", "9223372036854775807m", INT64_MAX},
                    CpuRow{"SubMillicore", "0.0005", -1}, CpuRow{"FractionalMillis", "1.5m", -1},
                    CpuRow{"Empty", "", -1}, CpuRow{"OnlyM", "m", -1}, CpuRow{"Negative", "-1", -1},
                    CpuRow{"TwoDots", "1.2.3", -1}, CpuRow{"NotANumber", "one", -1},
                    CpuRow{"TooLarge", "9223372036854775808m", -1}, CpuRow{"TooManyCores", "1234567890123456789", -1}),
    [](const testing::TestParamInfo<CpuRow>& row) { return row.param.name; });

TEST(QuantityTest, CpuAndBytesAgreeOnEveryText) {
  for (const char* text : {"1", "1.5", "250m", "2k", "1Ki", "1e3", "0.001", "7"}) {
    auto bytes = parseByteQuantity(text);
    auto millis = parseMilliQuantity(text);
    ASSERT_TRUE(millis.has_value()) << text;
    if (bytes.has_value()) {
      EXPECT_EQ(static_cast<uint64_t>(*millis), *bytes * 1000) << text;
    } else {
      EXPECT_NE(*millis % 1000, 0) << text;
    }
  }
}

TEST(QuantityTest, FormatsWithTheLargestExactBinarySuffix) {
  EXPECT_EQ(formatByteQuantity(0), "0");
  EXPECT_EQ(formatByteQuantity(100), "100");
  EXPECT_EQ(formatByteQuantity(1536ULL << 20), "1536Mi");
  EXPECT_EQ(formatByteQuantity(64ULL << 30), "64Gi");
  EXPECT_EQ(formatByteQuantity(1ULL << 40), "1Ti");
  EXPECT_EQ(formatByteQuantity(15ULL << 60), "15Ei");
  EXPECT_EQ(formatByteQuantity(UINT64_MAX), "18446744073709551615");
}

TEST(ResourceNamesTest, HugepageNamesAreCanonicalAndParseBack) {
  EXPECT_EQ(hugepageResourceName(2ULL << 20), "hugepages-2Mi");
  EXPECT_EQ(hugepageResourceName(1ULL << 30), "hugepages-1Gi");
  EXPECT_EQ(hugepageResourceName(64ULL << 10), "hugepages-64Ki");
  EXPECT_EQ(hugepageSizeOf("hugepages-2Mi").value(), 2ULL << 20);
  EXPECT_EQ(hugepageSizeOf("hugepages-2048Ki").value(), 2ULL << 20) << "any spelling of the size";
  EXPECT_TRUE(isHugepageResourceName("hugepages-1Gi"));
  for (const char* bad :
       {"hugepages-3Mi", "hugepages-0", "hugepages-", "hugepages-1.5Ki", "hugepages-2MB", "memory", "Hugepages-2Mi"}) {
    EXPECT_FALSE(isHugepageResourceName(bad)) << bad;
    auto size = hugepageSizeOf(bad);
    ASSERT_FALSE(size.has_value()) << bad;
    EXPECT_NE(size.error().message().find(bad), std::string::npos) << size.error().message();
  }
  EXPECT_TRUE(hasHugepagePrefix("hugepages-3Mi"));
  EXPECT_FALSE(hasHugepagePrefix("memory"));
}

}  // namespace
}  // namespace topod
