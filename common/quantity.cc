#include "common/quantity.h"

#include <limits>

namespace topod {
namespace {

using U128 = unsigned __int128;

// 36 significant digits stay below 10^36, far from the 128-bit limit (3.4 * 10^38).
constexpr int kMaxSignificantDigits = 36;
// Past this power of ten or two every nonzero value overflows 128 bits.
constexpr int kMaxExponent = 64;
// An exponent written in the text saturates here: beyond any text's number of fraction digits,
// so a saturated exponent still decides "too large" or "not whole" as the exact one would.
constexpr int kExponentCap = 100'000'000;

// text = sign? digits suffix, value = mantissa * 10^exp10 * 2^exp2.
struct Parsed {
  bool negative = false;
  U128 mantissa = 0;
  int exp10 = 0;
  int exp2 = 0;
};

struct Suffix {
  std::string_view name;
  int exp10;
  int exp2;
};

constexpr Suffix kSuffixes[] = {
    {"Ki", 0, 10}, {"Mi", 0, 20}, {"Gi", 0, 30}, {"Ti", 0, 40}, {"Pi", 0, 50}, {"Ei", 0, 60},
    {"n", -9, 0},  {"u", -6, 0},  {"m", -3, 0},  {"", 0, 0},    {"k", 3, 0},   {"M", 6, 0},
    {"G", 9, 0},   {"T", 12, 0},  {"P", 15, 0},  {"E", 18, 0},
};

// "e3", "E-2", "e+4": a decimal exponent; false when `suffix` is not one.
bool parseExponent(std::string_view suffix, int& out) {
  if (suffix.size() < 2 || (suffix[0] != 'e' && suffix[0] != 'E')) return false;
  std::string_view digits = suffix.substr(1);
  bool negative = false;
  if (digits[0] == '+' || digits[0] == '-') {
    negative = digits[0] == '-';
    digits.remove_prefix(1);
  }
  if (digits.empty()) return false;
  int value = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    if (value < kExponentCap) value = value * 10 + (c - '0');
  }
  out = negative ? -value : value;
  return true;
}

Result<Parsed> parse(std::string_view text, std::string_view what) {
  auto fail = [&](const std::string& why) {
    return Error::invalidArgument(std::string(what) + " \"" + std::string(text) + "\": " + why);
  };
  Parsed out;
  std::string_view rest = text;
  if (!rest.empty() && (rest[0] == '+' || rest[0] == '-')) {
    out.negative = rest[0] == '-';
    rest.remove_prefix(1);
  }
  bool seen_dot = false;
  int digits = 0;
  int significant = 0;
  std::size_t i = 0;
  for (; i < rest.size(); ++i) {
    const char c = rest[i];
    if (c == '.') {
      if (seen_dot) return fail("more than one decimal point");
      seen_dot = true;
      continue;
    }
    if (c < '0' || c > '9') break;
    ++digits;
    if (seen_dot) --out.exp10;
    if (significant == 0 && c == '0') continue;
    if (++significant > kMaxSignificantDigits) return fail("too many digits");
    out.mantissa = out.mantissa * 10 + static_cast<unsigned>(c - '0');
  }
  if (digits == 0) return fail("not a number");
  const std::string_view suffix = rest.substr(i);
  bool known = false;
  for (const Suffix& s : kSuffixes) {
    if (s.name != suffix) continue;
    out.exp10 += s.exp10;
    out.exp2 = s.exp2;
    known = true;
    break;
  }
  int exponent = 0;
  if (!known && parseExponent(suffix, exponent)) {
    out.exp10 += exponent;
    known = true;
  }
  if (!known) {
    return fail("unknown suffix \"" + std::string(suffix) +
                "\" (use Ki, Mi, Gi, Ti, Pi, Ei, n, u, m, k, M, G, T, P, E or an exponent such as e3)");
  }
  if (out.negative && out.mantissa != 0) return fail("negative");
  return out;
}

bool multiply(U128& value, U128 factor) {
  return !__builtin_mul_overflow(value, factor, &value);
}

// mantissa * 10^(exp10 + unit_exp10) * 2^exp2 when that is a whole number no larger than `max`.
Result<uint64_t> scale(const Parsed& parsed, int unit_exp10, uint64_t max, std::string_view text, std::string_view what,
                       std::string_view unit) {
  auto fail = [&](const std::string& why) {
    return Error::invalidArgument(std::string(what) + " \"" + std::string(text) + "\": " + why);
  };
  if (parsed.mantissa == 0) return uint64_t{0};
  U128 value = parsed.mantissa;
  int exp10 = parsed.exp10 + unit_exp10;
  int exp2 = parsed.exp2;
  // A negative power of ten divides by 5^k and 2^k; the 2s may come from a binary suffix.
  for (; exp10 < 0; ++exp10) {
    if (value % 5 != 0) return fail("not a whole number of " + std::string(unit));
    value /= 5;
    if (exp2 > 0) {
      --exp2;
    } else if (value % 2 == 0) {
      value /= 2;
    } else {
      return fail("not a whole number of " + std::string(unit));
    }
  }
  bool fits = exp10 <= kMaxExponent && exp2 <= kMaxExponent;
  for (; fits && exp10 > 0; --exp10) fits = multiply(value, 10);
  for (; fits && exp2 > 0; --exp2) fits = multiply(value, 2);
  if (!fits || value > max) return fail("too large");
  return static_cast<uint64_t>(value);
}

}  // namespace

Result<uint64_t> parseByteQuantity(std::string_view text) {
  constexpr std::string_view kWhat = "memory quantity";
  auto parsed = parse(text, kWhat);
  if (!parsed.has_value()) return parsed.error();
  return scale(*parsed, 0, std::numeric_limits<uint64_t>::max(), text, kWhat, "bytes");
}

Result<int64_t> parseMilliQuantity(std::string_view text) {
  constexpr std::string_view kWhat = "CPU quantity";
  auto parsed = parse(text, kWhat);
  if (!parsed.has_value()) return parsed.error();
  constexpr int kMilli = 3;
  auto millis = scale(*parsed, kMilli, std::numeric_limits<int64_t>::max(), text, kWhat, "millicores");
  if (!millis.has_value()) return millis.error();
  return static_cast<int64_t>(*millis);
}

std::string formatByteQuantity(uint64_t bytes) {
  static constexpr std::string_view kBinary[] = {"Ei", "Pi", "Ti", "Gi", "Mi", "Ki"};
  if (bytes == 0) return "0";
  int shift = 60;
  for (std::string_view suffix : kBinary) {
    const uint64_t unit = uint64_t{1} << shift;
    if (bytes % unit == 0) return std::to_string(bytes / unit) + std::string(suffix);
    shift -= 10;
  }
  return std::to_string(bytes);
}

}  // namespace topod
