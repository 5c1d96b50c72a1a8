// The event bus: every published event is journaled, then dispatched.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "blotter/event.h"
#include "blotter/store.h"

namespace blotter {

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

  // Registers `handler` for events of `type`; `name` identifies it in HANDLER_ERROR.
  void subscribe(EventType type, std::string name, Handler handler);

  // Journals `event` (setting its seq) and, unless a dispatch is already under
  // way, dispatches it and everything it causes. Returns the assigned seq.
  Seq publish(Event event);

  // Replay: hands an event already in the journal to its handlers, without
  // appending it. While it runs, whatever the handlers publish is discarded,
  // not journaled: the journal already holds what they published the first
  // time. This is how state is rebuilt by the very code that made it.
  void replay(const Event& recorded);

  EventStore& store() { return store_; }
  // Events published so far through this bus, by type.
  std::uint64_t published(EventType type) const { return counts_[static_cast<std::size_t>(type)]; }

 private:
  struct Subscriber {
    std::string name;
    Handler handler;
  };
  void drain(const Event& first);
  void dispatch(const Event& event);

  EventStore& store_;
  std::array<std::vector<Subscriber>, kEventTypeCount> handlers_;
  std::array<std::uint64_t, kEventTypeCount> counts_{};
  // Events published while a dispatch is under way, in publish order: the
  // ones before queue_head_ are dispatched (moved from). Cleared, not freed,
  // once drained, so a steady run queues without allocating.
  std::vector<Event> queue_;
  std::size_t queue_head_ = 0;
  bool draining_ = false;
  bool replaying_ = false;
};

}  // namespace blotter
