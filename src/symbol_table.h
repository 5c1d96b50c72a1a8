// Dense ids for the symbols a component has seen, so that per-symbol state
// lives in vectors indexed by id instead of maps keyed by the symbol's text.
#pragma once

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace blotter::detail {

// Ids are 0, 1, 2, ... in the order symbols were added; an id never changes
// until clear(). Lookups hash the text once and compare it once (open
// addressing, linear probing, at most half full). Not thread-safe.
class SymbolTable {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  // The id of `symbol`, or kNone if it was never added.
  std::uint32_t find(std::string_view symbol) const {
    if (slots_.empty()) return kNone;
    return slots_[probe(symbol, hash(symbol))];
  }

  // The id of `symbol`, adding it with the next id if it is new.
  std::uint32_t add(std::string_view symbol) {
    if (2 * (names_.size() + 1) > slots_.size()) grow();
    const std::uint64_t h = hash(symbol);
    std::uint32_t& slot = slots_[probe(symbol, h)];
    if (slot == kNone) {
      slot = static_cast<std::uint32_t>(names_.size());
      names_.emplace_back(symbol);
      hashes_.push_back(h);
    }
    return slot;
  }

  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

  void clear() {
    names_.clear();
    hashes_.clear();
    slots_.clear();
  }

 private:
  static std::uint64_t hash(std::string_view s) {
    // Symbols are short: eight bytes at a time, then a strong final mix.
    std::uint64_t h = s.size() * 0x9e3779b97f4a7c15ULL;
    std::size_t i = 0;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t word;
      std::memcpy(&word, s.data() + i, 8);
      h = (h ^ word) * 0xbf58476d1ce4e5b9ULL;
    }
    std::uint64_t tail = 0;
    for (std::size_t k = 0; i + k < s.size(); ++k)
      tail |= static_cast<std::uint64_t>(static_cast<unsigned char>(s[i + k])) << (8 * k);
    h = (h ^ tail) * 0x94d049bb133111ebULL;
    return h ^ (h >> 31);
  }

  static bool same_text(const std::string& a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t k = 0; k < b.size(); ++k)
      if (a[k] != b[k]) return false;
    return true;
  }

  // The slot holding `symbol`'s id, or the empty slot where it would go.
  std::size_t probe(std::string_view symbol, std::uint64_t h) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      const std::uint32_t id = slots_[i];
      if (id == kNone || (hashes_[id] == h && same_text(names_[id], symbol))) return i;
    }
  }

  void grow() {
    std::vector<std::uint32_t> slots(slots_.empty() ? 16 : 2 * slots_.size(), kNone);
    const std::size_t mask = slots.size() - 1;
    for (std::uint32_t id = 0; id < names_.size(); ++id) {
      std::size_t i = hashes_[id] & mask;
      while (slots[i] != kNone) i = (i + 1) & mask;
      slots[i] = id;
    }
    slots_ = std::move(slots);
  }

  std::vector<std::string> names_;     // by id
  std::vector<std::uint64_t> hashes_;  // by id
  std::vector<std::uint32_t> slots_;   // ids, kNone when free; size a power of two
};

}  // namespace blotter::detail
