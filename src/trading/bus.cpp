#include "blotter/bus.h"

#include <cassert>

#include "blotter/error.h"
#include "trading/symbol_table.h"

namespace blotter {

EventBus::EventBus(EventStore& store)
    : store_(store), symbols_(std::make_unique<detail::SymbolTable>()) {}

EventBus::~EventBus() = default;

std::uint32_t EventBus::look_up_symbol(const Event& event) {
  static_assert(kNoId == detail::SymbolTable::kNone);
  const std::uint32_t id = symbols_->add(event.symbol);
  if (&event == dispatching_) dispatching_id_ = id;
  return id;
}

std::uint32_t EventBus::symbol_id(std::string_view symbol) { return symbols_->add(symbol); }

const std::string& EventBus::symbol(std::uint32_t id) const { return symbols_->name(id); }

void EventBus::subscribe(EventType type, std::string name, Handler handler) {
  handlers_[static_cast<std::size_t>(type)].push_back({std::move(name), std::move(handler)});
}

Seq EventBus::publish(Event event) {
  if (replaying_) return 0;
  if (draining_) {
    free_slot() = std::move(event);
    return enqueue(kNoId);
  }
  const Seq seq = journal(event);
  // The queue is empty: `event` would be the first out, so it is dispatched
  // where it is, without a trip through the queue.
  drain(event);
  return seq;
}

void EventBus::add_slot() { queue_.push_back(Slot{std::make_unique<Event>(), kNoId}); }

Seq EventBus::enqueue(std::uint32_t symbol_id) {
  Slot& slot = queue_[queue_size_];
  const Seq seq = journal(*slot.event);
  slot.symbol_id = symbol_id;
  ++queue_size_;
  return seq;
}

void EventBus::replay(const Event& recorded) {
  assert(!draining_ && !replaying_);
  replaying_ = true;
  try {
    dispatch(recorded);
  } catch (...) {
    replaying_ = false;
    throw;
  }
  replaying_ = false;
}

void EventBus::drain(const Event& first) {
  assert(queue_size_ == 0 && queue_head_ == 0);
  draining_ = true;
  try {
    dispatch(first);
    while (queue_head_ < queue_size_) {
      const Slot& slot = queue_[queue_head_++];
      dispatch(*slot.event, slot.symbol_id);
    }
    queue_size_ = 0;
    queue_head_ = 0;
  } catch (...) {
    // A store failure: the events still queued were journaled in the batch
    // that the caller now rolls back, so they are dropped with it.
    queue_size_ = 0;
    queue_head_ = 0;
    draining_ = false;
    throw;
  }
  draining_ = false;
}

void EventBus::dispatch(const Event& event, std::uint32_t symbol_id) {
  assert(event.seq != 0);
  // Handlers may call symbol_id(event); the pointer is cleared on every way
  // out, as another event may later sit at the same address.
  struct Dispatching {
    EventBus& bus;
    Dispatching(EventBus& b, const Event& e, std::uint32_t id) : bus(b) {
      bus.dispatching_ = &e;
      bus.dispatching_id_ = id;
    }
    ~Dispatching() { bus.dispatching_ = nullptr; }
  } dispatching(*this, event, symbol_id);
  for (const Subscriber& s : handlers_[static_cast<std::size_t>(event.type())]) {
    try {
      s.handler(event);
    } catch (const StoreError&) {
      throw;
    } catch (const std::exception& e) {
      handler_failed(s, event, e.what());
    } catch (...) {
      handler_failed(s, event, "unknown exception");
    }
  }
}

void EventBus::handler_failed(const Subscriber& s, const Event& event, std::string error) {
  if (replaying_) return;  // the journal already holds this HANDLER_ERROR
  Event failure =
      make_event(event.ts_ns, event.symbol, HandlerError{s.name, event.seq, std::move(error)});
  if (event.type() == EventType::kHandlerError) {
    // A failing HANDLER_ERROR handler is journaled but not dispatched again,
    // or one bad handler would loop forever.
    journal(failure);
  } else {
    publish(std::move(failure));
  }
}

}  // namespace blotter
