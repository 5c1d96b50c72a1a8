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
// until clear(). Open addressing, linear probing, at most half full. A slot
// holds a symbol's first eight bytes as one word, with its length: for the
// usual symbol of up to eight bytes that is the whole text, so a lookup
// hashes one word and compares one slot, without touching the names.
// Not thread-safe.
class SymbolTable {
 public:
  static constexpr std::uint32_t kNone = UINT32_MAX;

  SymbolTable() : slots_(kInitialSlots) {}

  // The id of `symbol`, or kNone if it was never added.
  std::uint32_t find(std::string_view symbol) const {
    return slots_[probe(symbol, key_of(symbol))].id;
  }

  // The id of `symbol`, adding it with the next id if it is new.
  std::uint32_t add(std::string_view symbol) {
    const Key key = key_of(symbol);
    // The usual case inline: a short symbol in its first slot.
    const Slot& slot = slots_[key.hash & (slots_.size() - 1)];
    if (slot.word == key.word && slot.size == symbol.size() && symbol.size() <= kWord &&
        slot.id != kNone)
      return slot.id;
    return add_probing(symbol, key);
  }

  const std::string& name(std::uint32_t id) const { return names_[id]; }
  std::size_t size() const { return names_.size(); }

  void clear() {
    names_.clear();
    hashes_.clear();
    slots_.assign(kInitialSlots, Slot{});
  }

 private:
  struct Key {
    std::uint64_t word;  // the first eight bytes; with the length, the whole of a short text
    std::uint64_t hash;
  };
  struct Slot {
    std::uint64_t word = 0;
    std::uint32_t size = 0;
    std::uint32_t id = kNone;
  };
  static constexpr std::size_t kWord = 8;
  static constexpr std::size_t kInitialSlots = 16;

  static std::uint64_t load(const char* p, std::size_t n) {
    std::uint64_t v = 0;
    std::memcpy(&v, p, n);
    return v;
  }

  static Key key_of(std::string_view s) {
    const char* p = s.data();
    const std::size_t n = s.size();
    // Up to eight bytes in one word, read without reading past the text:
    // two overlapping halves from 4 bytes on, three single bytes below.
    // Given the length, the word determines the text.
    std::uint64_t word;
    if (n >= kWord) {
      word = load(p, 8);
    } else if (n >= 4) {
      word = load(p, 4) | load(p + n - 4, 4) << 32;
    } else if (n > 0) {
      word = load(p, 1) | load(p + n / 2, 1) << 8 | load(p + n - 1, 1) << 16;
    } else {
      word = 0;
    }
    std::uint64_t h = (word ^ (n * 0x9e3779b97f4a7c15ULL)) * 0xbf58476d1ce4e5b9ULL;
    if (n > kWord) {
      // The rest, eight bytes at a time, the last word overlapping.
      for (std::size_t i = kWord; i < n; i += kWord) {
        const std::size_t at = i + kWord <= n ? i : n - kWord;
        h = (h ^ load(p + at, 8)) * 0x94d049bb133111ebULL;
      }
    }
    h ^= h >> 31;
    return {word, h};
  }

  // add() past its first slot, or for a long symbol. Out of line, as
  // insert(): add() is the hot path, and these would make every call save
  // registers that only they use.
  [[gnu::noinline]] std::uint32_t add_probing(std::string_view symbol, const Key& key) {
    const std::uint32_t id = slots_[probe(symbol, key)].id;
    return id != kNone ? id : insert(symbol, key);
  }

  // Adds `symbol`, which is not in the table.
  [[gnu::noinline]] std::uint32_t insert(std::string_view symbol, const Key& key) {
    if (2 * (names_.size() + 1) > slots_.size()) grow();
    const auto id = static_cast<std::uint32_t>(names_.size());
    slots_[probe(symbol, key)] = Slot{key.word, static_cast<std::uint32_t>(symbol.size()), id};
    names_.emplace_back(symbol);
    hashes_.push_back(key.hash);
    return id;
  }

  // The slot holding `symbol`'s id, or the empty slot where it would go.
  std::size_t probe(std::string_view symbol, const Key& key) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = key.hash & mask;; i = (i + 1) & mask) {
      const Slot& slot = slots_[i];
      if (slot.id == kNone) return i;
      if (slot.word == key.word && slot.size == symbol.size() &&
          (symbol.size() <= kWord || names_[slot.id] == symbol))
        return i;
    }
  }

  void grow() {
    std::vector<Slot> slots(2 * slots_.size());
    const std::size_t mask = slots.size() - 1;
    for (const Slot& slot : slots_) {
      if (slot.id == kNone) continue;
      std::size_t i = hashes_[slot.id] & mask;
      while (slots[i].id != kNone) i = (i + 1) & mask;
      slots[i] = slot;
    }
    slots_ = std::move(slots);
  }

  std::vector<std::string> names_;     // by id
  std::vector<std::uint64_t> hashes_;  // by id, for grow()
  std::vector<Slot> slots_;            // size a power of two, never empty
};

}  // namespace blotter::detail
