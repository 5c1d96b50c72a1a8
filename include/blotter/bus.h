// The event bus: every published event is journaled, then dispatched.
#pragma once

#include <array>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/event.h"
#include "blotter/store.h"

namespace blotter {
namespace detail {
class SymbolTable;
}

// Dispatch order, which makes a run deterministic:
//  * publish() appends the event to the store at once (so the journal's seq
//    order is the publish order) and queues it;
//  * the outermost publish() then drains the queue first-in first-out: each
//    event goes to its type's handlers in subscription order, and events that
//    handlers publish are queued behind it, never dispatched recursively;
//  * an event is therefore handled only after it is in the journal, and all
//    consequences of one market event are handled before publish() returns.
// A handler that throws does not stop the others: the bus publishes a
// HANDLER_ERROR event naming the handler, the triggering seq and the message.
// A store failure (blotter::StoreError) is not a handler failure: it
// propagates out of publish(). A HANDLER_ERROR handler that throws is
// journaled as a HANDLER_ERROR that is not dispatched again.
// Not thread-safe: one thread publishes.
class EventBus {
 public:
  using Handler = std::function<void(const Event&)>;

  // `store` must outlive the bus.
  explicit EventBus(EventStore& store);
  ~EventBus();

  // Registers `handler` for events of `type`; `name` identifies it in HANDLER_ERROR.
  void subscribe(EventType type, std::string name, Handler handler);

  // Journals `event` (setting its seq) and, unless a dispatch is already under
  // way, dispatches it and everything it causes. Returns the assigned seq.
  Seq publish(Event event);
  // publish(make_event(ts, symbol, body)), for an event published by a
  // handler: made in place in the queue, reusing a queued event's storage.
  // An event for the very symbol object of the event being dispatched (say
  // `market_event.symbol`) keeps its symbol id without looking it up again.
  template <class T>
  Seq publish(TimestampNs ts, const std::string& symbol, T&& body);

  // Replay: hands an event already in the journal to its handlers, without
  // appending it. While it runs, whatever the handlers publish is discarded,
  // not journaled: the journal already holds what they published the first
  // time. This is how state is rebuilt by the very code that made it.
  void replay(const Event& recorded);
  // Whether replay() is running: what is published now is discarded.
  bool replaying() const { return replaying_; }

  // Symbols as dense ids: 0, 1, 2, ... in the order the bus was first asked
  // about them, for handlers that keep per-symbol state in vectors. An id
  // never changes for the bus's lifetime. For the event being dispatched the
  // symbol is looked up once, however many handlers ask.
  std::uint32_t symbol_id(const Event& event) {
    // Inline for the event being dispatched once its id is known, as every
    // handler of it asks.
    if (&event == dispatching_ && dispatching_id_ != kNoId) return dispatching_id_;
    return look_up_symbol(event);
  }
  std::uint32_t symbol_id(std::string_view symbol);
  // The symbol of `id`, which symbol_id() returned.
  const std::string& symbol(std::uint32_t id) const;

  EventStore& store() { return store_; }
  // Events published so far through this bus, by type.
  std::uint64_t published(EventType type) const { return counts_[static_cast<std::size_t>(type)]; }

 private:
  struct Subscriber {
    std::string name;
    Handler handler;
  };
  static constexpr std::uint32_t kNoId = UINT32_MAX;
  // A queued event, on the heap so that it stays where it is while the
  // queue grows, and its symbol's id if known when it was published.
  struct Slot {
    std::unique_ptr<Event> event;
    std::uint32_t symbol_id = kNoId;
  };
  // The free slot at queue_size_, made if there is none.
  Event& free_slot() {
    if (queue_size_ == queue_.size()) [[unlikely]]
      add_slot();
    return *queue_[queue_size_].event;
  }
  void add_slot();
  // Appends `event` to the store and counts it; returns its seq.
  Seq journal(Event& event) {
    const Seq seq = store_.append(event);
    ++counts_[static_cast<std::size_t>(event.type())];
    return seq;
  }
  // Journals the event just made in free_slot() and queues it.
  Seq enqueue(std::uint32_t symbol_id);
  // symbol_id(event) the first time it is asked during a dispatch, or for
  // an event not being dispatched.
  std::uint32_t look_up_symbol(const Event& event);
  void drain(const Event& first);
  // Dispatches `event`, whose symbol's id is `symbol_id` if not kNoId.
  void dispatch(const Event& event, std::uint32_t symbol_id = kNoId);
  // Journals (and dispatches) the HANDLER_ERROR for `s` throwing `error` on
  // `event`. Out of dispatch()'s loop: the loop is the hot path, this is not.
  [[gnu::cold]] void handler_failed(const Subscriber& s, const Event& event, std::string error);

  EventStore& store_;
  std::array<std::vector<Subscriber>, kEventTypeCount> handlers_;
  std::array<std::uint64_t, kEventTypeCount> counts_{};
  // Events published while a dispatch is under way, in publish order, in
  // the first queue_size_ slots; the ones before queue_head_ are dispatched.
  // Each slot is an Event of its own on the heap, so an event is dispatched
  // where it lies while its handlers' publish() grows the queue. Slots are
  // reused, never freed, so a steady run queues without allocating.
  std::vector<Slot> queue_;
  std::size_t queue_size_ = 0;
  std::size_t queue_head_ = 0;
  bool draining_ = false;
  bool replaying_ = false;
  std::unique_ptr<detail::SymbolTable> symbols_;
  // The event being dispatched (nullptr between dispatches) and its symbol's
  // id, kNoId until a handler asks for it.
  const Event* dispatching_ = nullptr;
  std::uint32_t dispatching_id_ = kNoId;
};

template <class T>
Seq EventBus::publish(TimestampNs ts, const std::string& symbol, T&& body) {
  if (replaying_) return 0;
  if (!draining_) return publish(Event(ts, std::string_view(symbol), std::forward<T>(body)));
  Event& slot = free_slot();
  slot.seq = 0;
  slot.ts_ns = ts;
  slot.recorded_ns = 0;
  // The same symbol as the slot's last event, as is usual, is one copy of
  // its bytes; assign() is a call into the library.
  if (slot.symbol.size() == symbol.size())
    std::char_traits<char>::copy(slot.symbol.data(), symbol.data(), symbol.size());
  else
    slot.symbol.assign(symbol);
  slot.payload.template emplace<std::decay_t<T>>(std::forward<T>(body));
  const bool same_symbol = dispatching_ != nullptr && &symbol == &dispatching_->symbol;
  return enqueue(same_symbol ? dispatching_id_ : kNoId);
}

}  // namespace blotter
