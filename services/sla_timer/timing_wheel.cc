#include "services/sla_timer/timing_wheel.h"

namespace hotline::sla {

TimingWheel::TimingWheel(int64_t now_ms, int64_t tick_ms)
    : tick_ms_(tick_ms), current_tick_(now_ms / tick_ms), heads_(kDueList + 1, kNone) {}

size_t TimingWheel::MemoryBytes() const {
  return nodes_.capacity() * sizeof(Node) + free_.capacity() * sizeof(Handle) +
         heads_.capacity() * sizeof(Handle);
}

void TimingWheel::Link(uint32_t list, Handle h) {
  Node& n = nodes_[h];
  n.list = list;
  n.prev = kNone;
  n.next = heads_[list];
  if (n.next != kNone) nodes_[n.next].prev = h;
  heads_[list] = h;
}

void TimingWheel::Unlink(Handle h) {
  Node& n = nodes_[h];
  if (n.prev != kNone)
    nodes_[n.prev].next = n.next;
  else
    heads_[n.list] = n.next;
  if (n.next != kNone) nodes_[n.next].prev = n.prev;
}

uint32_t TimingWheel::TakeList(uint32_t list) {
  Handle h = heads_[list];
  heads_[list] = kNone;
  return h;
}

void TimingWheel::Place(Handle h) {
  // Round up: an entry fires at the first tick that starts at or after its expiry, never before.
  int64_t e = nodes_[h].expiry_ms;
  int64_t expiry_tick = e >= 0 ? (e + tick_ms_ - 1) / tick_ms_ : e / tick_ms_;
  int64_t delta = expiry_tick - current_tick_;
  if (delta <= 0) {
    Link(kDueList, h);
    return;
  }
  int level = 0;
  while (level < kLevels - 1 && delta >= (int64_t{1} << (kBits * (level + 1)))) ++level;
  // Beyond the top level's range the entry sits in the top level and is re-placed each time its
  // slot cascades, until it is in range.
  uint32_t index = static_cast<uint32_t>((expiry_tick >> (kBits * level)) & (kSlots - 1));
  Link(static_cast<uint32_t>(level * kSlots) + index, h);
}

void TimingWheel::Cascade(int level, int index) {
  for (Handle h = TakeList(static_cast<uint32_t>(level * kSlots + index)); h != kNone;) {
    Handle next = nodes_[h].next;
    Place(h);
    h = next;
  }
}

TimingWheel::Handle TimingWheel::Add(int64_t expiry_ms, uint32_t payload) {
  Handle h;
  if (!free_.empty()) {
    h = free_.back();
    free_.pop_back();
  } else {
    h = static_cast<Handle>(nodes_.size());
    nodes_.push_back({});
  }
  nodes_[h].expiry_ms = expiry_ms;
  nodes_[h].payload = payload;
  Place(h);
  ++size_;
  return h;
}

bool TimingWheel::Cancel(Handle h) {
  if (h >= nodes_.size() || nodes_[h].list == kFree) return false;
  Unlink(h);
  nodes_[h].list = kFree;
  free_.push_back(h);
  --size_;
  return true;
}

}  // namespace hotline::sla
