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
std::string formatIdList(const std::vector<uint64_t>& words);
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
  IdSet& operator|=(const IdSet& other) { return *this = unionWith(other); }
  IdSet& operator&=(const IdSet& other) { return *this = intersectionWith(other); }
  IdSet& operator-=(const IdSet& other) { return *this = difference(other); }

  // Kernel list syntax, ranges collapsed: {0,1,2,3,8} -> "0-3,8"; empty set -> "".
  std::string toString() const { return detail::formatIdList(words_); }

  friend bool operator==(const IdSet& a, const IdSet& b) { return a.words_ == b.words_; }
  // Orders by the ids themselves (lexicographic over ascending ids), so sorting is meaningful.
  friend bool operator<(const IdSet& a, const IdSet& b) { return a.toVector() < b.toVector(); }

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
  void trim();

  // Invariant: no trailing zero words, so equal sets have equal vectors.
  std::vector<uint64_t> words_;
};

struct CpuSetTraits {
  // The kernel's CONFIG_NR_CPUS maximum is 8192.
  static constexpr int kMaxId = 8191;
  static constexpr const char* kListName = "cpu list";
};
struct NodeSetTraits {
  // The kernel's CONFIG_NODES_SHIFT maximum is 10: at most 1024 NUMA nodes.
  static constexpr int kMaxId = 1023;
  static constexpr const char* kListName = "node list";
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
