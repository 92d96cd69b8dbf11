#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace hotline::sla {

// A hierarchical timing wheel (the design of Kafka's purgatory and the Linux kernel timers):
// five levels of 256 slots over `tick_ms` ticks, so insert and cancel are O(1) and advancing
// costs O(1) per tick plus O(1) per entry fired or cascaded. Entries live in one node pool
// (24 bytes each), linked into their slot; a payload (a uint32 index into the owner's table)
// says what to fire.
// Not thread-safe: the owner serialises calls.
class TimingWheel {
 public:
  using Handle = uint32_t;
  static constexpr Handle kNone = 0xffffffffu;

  explicit TimingWheel(int64_t now_ms, int64_t tick_ms = 10);

  // Schedules `payload` at `expiry_ms`; an expiry not after the current time fires on the next
  // Advance.
  Handle Add(int64_t expiry_ms, uint32_t payload);
  // False when the handle is not scheduled (fired or cancelled already).
  bool Cancel(Handle h);
  // Moves time to `now_ms` and calls fire(payload, expiry_ms) for every entry due by then, in
  // expiry order tick by tick. `fire` may Add and Cancel. Returns how many fired.
  template <typename F>
  size_t Advance(int64_t now_ms, F&& fire);

  size_t size() const { return size_; }
  size_t MemoryBytes() const;
  void Reserve(size_t n) { nodes_.reserve(n); }

 private:
  static constexpr int kLevels = 5;
  static constexpr int kBits = 8;
  static constexpr int kSlots = 1 << kBits;
  static constexpr uint32_t kDueList = kLevels * kSlots;  // entries already due
  static constexpr uint32_t kFree = kDueList + 1;

  struct Node {
    int64_t expiry_ms;
    uint32_t payload;
    uint32_t prev, next;
    uint32_t list;  // slot index, kDueList, or kFree
  };
  static_assert(sizeof(Node) == 24, "one timer costs 24 bytes");

  void Place(Handle h);
  void Link(uint32_t list, Handle h);
  void Unlink(Handle h);
  uint32_t TakeList(uint32_t list);  // detaches and returns the head
  void Cascade(int level, int index);

  int64_t tick_ms_;
  int64_t current_tick_;
  std::vector<Node> nodes_;
  std::vector<Handle> free_;
  std::vector<Handle> heads_;  // kLevels * kSlots + 1 (the due list)
  size_t size_ = 0;
};

template <typename F>
size_t TimingWheel::Advance(int64_t now_ms, F&& fire) {
  const int64_t target = now_ms / tick_ms_;
  size_t fired = 0;
  std::vector<std::pair<uint32_t, int64_t>> batch;
  auto drain_due = [&] {
    // Unlink the whole due list first, so `fire` may Add or Cancel freely.
    batch.clear();
    for (Handle h = TakeList(kDueList); h != kNone;) {
      Handle next = nodes_[h].next;
      batch.emplace_back(nodes_[h].payload, nodes_[h].expiry_ms);
      nodes_[h].list = kFree;
      free_.push_back(h);
      --size_;
      h = next;
    }
    for (const auto& [payload, expiry] : batch) fire(payload, expiry);
    fired += batch.size();
  };
  drain_due();
  while (current_tick_ < target) {
    if (size_ == 0) {
      current_tick_ = target;
      break;
    }
    ++current_tick_;
    // Cascade the higher levels whose slot boundary this tick crosses, highest first.
    for (int level = kLevels - 1; level >= 1; --level) {
      int64_t mask = (int64_t{1} << (kBits * level)) - 1;
      if ((current_tick_ & mask) == 0)
        Cascade(level, static_cast<int>((current_tick_ >> (kBits * level)) & (kSlots - 1)));
    }
    // Everything in this level-0 slot is due now.
    for (Handle h = TakeList(static_cast<uint32_t>(current_tick_ & (kSlots - 1))); h != kNone;) {
      Handle next = nodes_[h].next;
      Link(kDueList, h);
      h = next;
    }
    drain_due();
  }
  return fired;
}

}  // namespace hotline::sla
