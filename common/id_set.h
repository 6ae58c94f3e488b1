// IdSet: a set of small non-negative ids (Linux CPU numbers, NUMA node numbers) backed by a
// bitset, with set algebra and the kernel's list syntax ("0-3,8,10-11"). CpuSet and NodeSet are
// distinct instantiations so a CPU set can never be passed where a node set is expected.
//
// Value type: copyable, comparable, hashable, ordered by content. Not thread-safe for writers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace topod {

namespace detail {
// Parses "0-3,8" into the sorted, unique ids it names, rejecting ids above max_id.
// `what` names the set kind in errors ("cpu list", "node list").
Result<std::vector<int>> parseIdList(std::string_view text, int max_id, std::string_view what);
// Appends the kernel list syntax of the ids set in `words` to `out`.
void appendIdList(std::string& out, const uint64_t* words, std::size_t count);

// The words of an IdSet: the first kInline words live inside the object, more go to the heap.
// Set algebra runs on every decision; with the words inline, a CPU set of a 512-CPU machine or
// a NUMA node set is built, copied and combined without touching the allocator.
template <std::size_t kInline>
class Words {
 public:
  // User-provided so a const empty set needs no initializer; the unused words stay unset.
  Words() noexcept {}  // NOLINT(modernize-use-equals-default)
  Words(const Words& other) { assign(other); }
  Words(Words&& other) noexcept { take(other); }
  Words& operator=(const Words& other) {
    if (this != &other) {
      release();
      assign(other);
    }
    return *this;
  }
  Words& operator=(Words&& other) noexcept {
    if (this != &other) {
      release();
      take(other);
    }
    return *this;
  }
  ~Words() { release(); }

  std::size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  const uint64_t* data() const { return onHeap() ? heap_ : inline_; }
  uint64_t* data() { return onHeap() ? heap_ : inline_; }
  uint64_t operator[](std::size_t i) const { return data()[i]; }
  uint64_t& operator[](std::size_t i) { return data()[i]; }
  const uint64_t* begin() const { return data(); }
  const uint64_t* end() const { return data() + size_; }
  uint64_t back() const { return data()[size_ - 1]; }
  void pop_back() { --size_; }
  void clear() { size_ = 0; }
  // Grows with zero words, or shrinks.
  void resize(std::size_t size) {
    if (size > capacity_) grow(size);
    uint64_t* words = data();
    for (std::size_t i = size_; i < size; ++i) words[i] = 0;
    size_ = size;
  }

  friend bool operator==(const Words& a, const Words& b) {
    if (a.size_ != b.size_) return false;
    for (std::size_t i = 0; i < a.size_; ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  }

 private:
  bool onHeap() const { return capacity_ > kInline; }
  void grow(std::size_t size) {
    std::size_t capacity = capacity_ * 2 > size ? capacity_ * 2 : size;
    auto* heap = new uint64_t[capacity];
    const uint64_t* old = data();
    for (std::size_t i = 0; i < size_; ++i) heap[i] = old[i];
    release();
    heap_ = heap;
    capacity_ = capacity;
  }
  void release() {
    if (onHeap()) delete[] heap_;
    capacity_ = kInline;
  }
  void assign(const Words& other) {
    if (other.size_ > kInline) {
      heap_ = new uint64_t[other.size_];
      capacity_ = other.size_;
    }
    uint64_t* words = data();
    for (std::size_t i = 0; i < other.size_; ++i) words[i] = other[i];
    size_ = other.size_;
  }
  void take(Words& other) {
    if (other.onHeap()) {
      heap_ = other.heap_;
      capacity_ = other.capacity_;
      other.capacity_ = kInline;
    } else {
      for (std::size_t i = 0; i < other.size_; ++i) inline_[i] = other.inline_[i];
    }
    size_ = other.size_;
    other.size_ = 0;
  }

  std::size_t size_ = 0;
  std::size_t capacity_ = kInline;
  union {
    uint64_t inline_[kInline];
    uint64_t* heap_;
  };
};
}  // namespace detail

template <typename Traits>
class IdSet {
 public:
  // Largest id a set may hold; ids come from the kernel, which caps them (see the traits).
  static constexpr int kMaxId = Traits::kMaxId;

  IdSet() = default;
  IdSet(std::initializer_list<int> ids) {
    for (int id : ids) insert(id);
  }
  // All ids in [first, last].
  static IdSet range(int first, int last) {
    IdSet set;
    for (int id = first; id <= last; ++id) set.insert(id);
    return set;
  }
  static IdSet fromIds(const std::vector<int>& ids) {
    IdSet set;
    for (int id : ids) set.insert(id);
    return set;
  }
  // Strict parse of the kernel list syntax. The empty string (and "\n") is the empty set, as in
  // an empty cpuset.cpus file. Rejects "3-1", "a", "1,,2", "-1", ids above kMaxId, and so on.
  static Result<IdSet> parse(std::string_view text) {
    auto ids = detail::parseIdList(text, kMaxId, Traits::kListName);
    if (!ids.has_value()) return ids.error();
    return fromIds(*ids);
  }

  // Inserting an id outside [0, kMaxId] is a programming error and terminates.
  void insert(int id);
  void erase(int id);
  bool contains(int id) const;
  bool empty() const;
  int size() const;
  void clear() { words_.clear(); }

  // Smallest / largest id; -1 when empty.
  int first() const;
  int last() const;
  std::vector<int> toVector() const;

  IdSet unionWith(const IdSet& other) const;
  IdSet intersectionWith(const IdSet& other) const;
  IdSet difference(const IdSet& other) const;
  bool isSubsetOf(const IdSet& other) const;
  bool intersects(const IdSet& other) const;

  IdSet operator|(const IdSet& other) const { return unionWith(other); }
  IdSet operator&(const IdSet& other) const { return intersectionWith(other); }
  IdSet operator-(const IdSet& other) const { return difference(other); }
  // In place: no temporary set.
  IdSet& operator|=(const IdSet& other);
  IdSet& operator&=(const IdSet& other);
  IdSet& operator-=(const IdSet& other);

  // Kernel list syntax, ranges collapsed: {0,1,2,3,8} -> "0-3,8"; empty set -> "".
  std::string toString() const {
    std::string out;
    appendTo(out);
    return out;
  }
  // The same appended to `out` (explanations list hundreds of sets: no string per set).
  void appendTo(std::string& out) const { detail::appendIdList(out, words_.data(), words_.size()); }

  // The bitset itself, 64 ids per word from id 0 (word i holds ids 64i..64i+63), for conversions
  // to and from other bitmask types (the topology manager's 64-bit NUMA masks).
  uint64_t word(std::size_t index) const { return index < words_.size() ? words_[index] : 0; }
  static IdSet fromWord(uint64_t word) {
    IdSet set;
    if (word != 0) {
      set.words_.resize(1);
      set.words_[0] = word;
    }
    return set;
  }

  friend bool operator==(const IdSet& a, const IdSet& b) { return a.words_ == b.words_; }
  // Orders by the ids themselves (lexicographic over ascending ids), so sorting is meaningful.
  // Computed on the words without building the id lists (sets are map keys on decision paths).
  friend bool operator<(const IdSet& a, const IdSet& b) { return a.lessThan(b); }

  class Iterator {
   public:
    using value_type = int;
    using difference_type = std::ptrdiff_t;
    Iterator() = default;
    Iterator(const IdSet* set, int id) : set_(set), id_(id) {}
    int operator*() const { return id_; }
    Iterator& operator++() {
      id_ = set_->nextFrom(id_ + 1);
      return *this;
    }
    Iterator operator++(int) {
      Iterator copy = *this;
      ++*this;
      return copy;
    }
    friend bool operator==(const Iterator& a, const Iterator& b) { return a.id_ == b.id_; }

   private:
    const IdSet* set_ = nullptr;
    int id_ = -1;
  };
  Iterator begin() const { return Iterator(this, nextFrom(0)); }
  Iterator end() const { return Iterator(this, -1); }

  std::size_t hash() const;

 private:
  static constexpr int kWordBits = 64;
  // Smallest id >= from in the set, or -1.
  int nextFrom(int from) const;
  bool lessThan(const IdSet& other) const;
  void trim();

  // Invariant: no trailing zero words, so equal sets have equal words.
  detail::Words<Traits::kInlineWords> words_;
};

struct CpuSetTraits {
  // The kernel's CONFIG_NR_CPUS maximum is 8192.
  static constexpr int kMaxId = 8191;
  static constexpr const char* kListName = "cpu list";
  // Sets of up to 512 CPUs (the largest machines the benchmarks model) stay off the heap.
  static constexpr std::size_t kInlineWords = 8;
};
struct NodeSetTraits {
  // The kernel's CONFIG_NODES_SHIFT maximum is 10: at most 1024 NUMA nodes.
  static constexpr int kMaxId = 1023;
  static constexpr const char* kListName = "node list";
  // Up to 128 NUMA nodes inline; machines have a handful.
  static constexpr std::size_t kInlineWords = 2;
};

using CpuSet = IdSet<CpuSetTraits>;
using NodeSet = IdSet<NodeSetTraits>;

extern template class IdSet<CpuSetTraits>;
extern template class IdSet<NodeSetTraits>;

}  // namespace topod

template <typename Traits>
struct std::hash<topod::IdSet<Traits>> {
  std::size_t operator()(const topod::IdSet<Traits>& set) const { return set.hash(); }
};
