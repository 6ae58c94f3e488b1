#include "common/id_set.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cstdio>
#include <cstdlib>

namespace topod {

namespace detail {
namespace {

Result<int> parseId(std::string_view token, std::string_view text, int max_id, std::string_view what) {
  auto fail = [&](std::string reason) {
    return Error::invalidArgument(std::string(what) + " \"" + std::string(text) + "\": " + reason);
  };
  if (token.empty()) return fail("empty element");
  for (char c : token) {
    if (c < '0' || c > '9') return fail("\"" + std::string(token) + "\" is not a non-negative number");
  }
  // Ids are small; anything longer than 6 digits is out of range anyway and would overflow.
  if (token.size() > 6)
    return fail("id " + std::string(token) + " is out of range (max " + std::to_string(max_id) + ")");
  int value = 0;
  std::from_chars(token.data(), token.data() + token.size(), value);
  if (value > max_id) {
    return fail("id " + std::to_string(value) + " is out of range (max " + std::to_string(max_id) + ")");
  }
  return value;
}

}  // namespace

Result<std::vector<int>> parseIdList(std::string_view text, int max_id, std::string_view what) {
  std::string_view body = text;
  // Kernel files end in a newline; accept exactly one trailing newline and nothing else.
  if (!body.empty() && body.back() == '\n') body.remove_suffix(1);
  std::vector<int> ids;
  if (body.empty()) return ids;
  std::size_t start = 0;
  while (start <= body.size()) {
    std::size_t comma = body.find(',', start);
    std::string_view element =
        body.substr(start, comma == std::string_view::npos ? std::string_view::npos : comma - start);
    std::size_t dash = element.find('-');
    if (dash == std::string_view::npos) {
      auto id = parseId(element, text, max_id, what);
      if (!id.has_value()) return id.error();
      ids.push_back(*id);
    } else {
      auto low = parseId(element.substr(0, dash), text, max_id, what);
      if (!low.has_value()) return low.error();
      auto high = parseId(element.substr(dash + 1), text, max_id, what);
      if (!high.has_value()) return high.error();
      if (*high < *low) {
        return Error::invalidArgument(std::string(what) + " \"" + std::string(text) + "\": range \"" +
                                      std::string(element) + "\" ends below its start");
      }
      for (int id = *low; id <= *high; ++id) ids.push_back(id);
    }
    if (comma == std::string_view::npos) break;
    start = comma + 1;
    if (start == body.size()) {
      return Error::invalidArgument(std::string(what) + " \"" + std::string(text) + "\": trailing comma");
    }
  }
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  return ids;
}

void appendIdList(std::string& out, const uint64_t* words, std::size_t count) {
  // Written with to_chars straight into `out`: explanations list hundreds of sets per decision.
  const std::size_t start = out.size();
  char digits[16];
  auto append = [&](int id) {
    auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), id);
    out.append(digits, end);
  };
  int run_start = -1;
  int previous = -2;
  auto flush = [&] {
    if (run_start < 0) return;
    if (out.size() > start) out += ',';
    append(run_start);
    if (previous != run_start) {
      out += '-';
      append(previous);
    }
  };
  for (std::size_t w = 0; w < count; ++w) {
    uint64_t bits = words[w];
    while (bits != 0) {
      int id = static_cast<int>(w) * 64 + std::countr_zero(bits);
      bits &= bits - 1;
      if (id != previous + 1) {
        flush();
        run_start = id;
      }
      previous = id;
    }
  }
  flush();
}

}  // namespace detail

template <typename Traits>
void IdSet<Traits>::insert(int id) {
  if (id < 0 || id > kMaxId) {
    std::fprintf(stderr, "topod: fatal: id %d inserted into a %s (valid 0-%d)\n", id, Traits::kListName, kMaxId);
    std::abort();
  }
  std::size_t word = static_cast<std::size_t>(id / kWordBits);
  if (words_.size() <= word) words_.resize(word + 1);
  words_[word] |= uint64_t{1} << (id % kWordBits);
}

template <typename Traits>
void IdSet<Traits>::erase(int id) {
  if (id < 0) return;
  std::size_t word = static_cast<std::size_t>(id / kWordBits);
  if (word >= words_.size()) return;
  words_[word] &= ~(uint64_t{1} << (id % kWordBits));
  trim();
}

template <typename Traits>
bool IdSet<Traits>::contains(int id) const {
  if (id < 0) return false;
  std::size_t word = static_cast<std::size_t>(id / kWordBits);
  return word < words_.size() && (words_[word] >> (id % kWordBits) & 1U) != 0;
}

template <typename Traits>
bool IdSet<Traits>::empty() const {
  return words_.empty();
}

template <typename Traits>
int IdSet<Traits>::size() const {
  int count = 0;
  // Sparse sets (a core's threads 256 ids apart) have mostly zero words; without hardware popcount
  // every word would cost a library call.
  for (uint64_t w : words_) {
    if (w != 0) count += std::popcount(w);
  }
  return count;
}

template <typename Traits>
int IdSet<Traits>::first() const {
  return nextFrom(0);
}

template <typename Traits>
int IdSet<Traits>::last() const {
  if (words_.empty()) return -1;
  std::size_t w = words_.size() - 1;
  return static_cast<int>(w) * kWordBits + (kWordBits - 1 - std::countl_zero(words_[w]));
}

template <typename Traits>
std::vector<int> IdSet<Traits>::toVector() const {
  std::vector<int> ids;
  ids.reserve(static_cast<std::size_t>(size()));
  for (int id : *this) ids.push_back(id);
  return ids;
}

template <typename Traits>
IdSet<Traits> IdSet<Traits>::unionWith(const IdSet& other) const {
  IdSet out = words_.size() >= other.words_.size() ? *this : other;
  const IdSet& smaller = words_.size() >= other.words_.size() ? other : *this;
  for (std::size_t i = 0; i < smaller.words_.size(); ++i) out.words_[i] |= smaller.words_[i];
  return out;
}

template <typename Traits>
IdSet<Traits> IdSet<Traits>::intersectionWith(const IdSet& other) const {
  IdSet out;
  out.words_.resize(std::min(words_.size(), other.words_.size()));
  for (std::size_t i = 0; i < out.words_.size(); ++i) out.words_[i] = words_[i] & other.words_[i];
  out.trim();
  return out;
}

template <typename Traits>
IdSet<Traits>& IdSet<Traits>::operator|=(const IdSet& other) {
  if (words_.size() < other.words_.size()) words_.resize(other.words_.size());
  for (std::size_t i = 0; i < other.words_.size(); ++i) words_[i] |= other.words_[i];
  return *this;
}

template <typename Traits>
IdSet<Traits>& IdSet<Traits>::operator&=(const IdSet& other) {
  if (words_.size() > other.words_.size()) words_.resize(other.words_.size());
  for (std::size_t i = 0; i < words_.size(); ++i) words_[i] &= other.words_[i];
  trim();
  return *this;
}

template <typename Traits>
IdSet<Traits>& IdSet<Traits>::operator-=(const IdSet& other) {
  std::size_t common = std::min(words_.size(), other.words_.size());
  for (std::size_t i = 0; i < common; ++i) words_[i] &= ~other.words_[i];
  trim();
  return *this;
}

template <typename Traits>
IdSet<Traits> IdSet<Traits>::difference(const IdSet& other) const {
  IdSet out = *this;
  std::size_t common = std::min(words_.size(), other.words_.size());
  for (std::size_t i = 0; i < common; ++i) out.words_[i] &= ~other.words_[i];
  out.trim();
  return out;
}

template <typename Traits>
bool IdSet<Traits>::isSubsetOf(const IdSet& other) const {
  if (words_.size() > other.words_.size()) return false;
  for (std::size_t i = 0; i < words_.size(); ++i) {
    if ((words_[i] & ~other.words_[i]) != 0) return false;
  }
  return true;
}

template <typename Traits>
bool IdSet<Traits>::intersects(const IdSet& other) const {
  std::size_t common = std::min(words_.size(), other.words_.size());
  for (std::size_t i = 0; i < common; ++i) {
    if ((words_[i] & other.words_[i]) != 0) return true;
  }
  return false;
}

template <typename Traits>
bool IdSet<Traits>::lessThan(const IdSet& other) const {
  // The ascending id lists agree up to the lowest id in which the sets differ. The set holding
  // that id is the smaller one, unless the other set has no id above it: the other's list then
  // ends there and is a prefix, hence smaller.
  const std::size_t words = std::max(words_.size(), other.words_.size());
  for (std::size_t w = 0; w < words; ++w) {
    const uint64_t mine = w < words_.size() ? words_[w] : 0;
    const uint64_t theirs = w < other.words_.size() ? other.words_[w] : 0;
    const uint64_t differ = mine ^ theirs;
    if (differ == 0) continue;
    const int bit = std::countr_zero(differ);
    const int id = static_cast<int>(w) * kWordBits + bit;
    if ((mine >> bit & 1U) != 0) return other.last() > id;
    return last() <= id;
  }
  return false;
}

template <typename Traits>
std::size_t IdSet<Traits>::hash() const {
  // FNV-1a over the words; the trimmed representation makes equal sets hash equally.
  std::size_t h = 1469598103934665603ULL;
  for (uint64_t w : words_) {
    h ^= static_cast<std::size_t>(w);
    h *= 1099511628211ULL;
  }
  return h;
}

template <typename Traits>
int IdSet<Traits>::nextFrom(int from) const {
  if (from < 0) from = 0;
  std::size_t w = static_cast<std::size_t>(from / kWordBits);
  if (w >= words_.size()) return -1;
  uint64_t bits = words_[w] & (~uint64_t{0} << (from % kWordBits));
  while (true) {
    if (bits != 0) return static_cast<int>(w) * kWordBits + std::countr_zero(bits);
    if (++w >= words_.size()) return -1;
    bits = words_[w];
  }
}

template <typename Traits>
void IdSet<Traits>::trim() {
  while (!words_.empty() && words_.back() == 0) words_.pop_back();
}

template class IdSet<CpuSetTraits>;
template class IdSet<NodeSetTraits>;

}  // namespace topod
