#include "blotter/annotation.h"

#include <fmt/format.h>

#include "blotter/calendar.h"
#include "blotter/error.h"
#include "blotter/replay.h"

namespace blotter {

Event annotate(EventStore& store, const Annotation& note) {
  if (note.refers_to_seq != 0 && !note.day.empty())
    throw ConfigError({"an annotation is about one event (", Field{"refers_to_seq"},
                       ") or one day (", Field{"day"}, "), not both"});
  if (note.refers_to_seq == 0 && note.day.empty())
    throw ConfigError({"an annotation is about one event (", Field{"refers_to_seq"},
                       ") or one day (", Field{"day"}, "): give one"});
  if (note.text.find_first_not_of(" \t\r\n") == std::string::npos)
    throw ConfigError("the annotation's text is empty");
  Event event;
  if (note.refers_to_seq != 0) {
    std::optional<Event> referenced;
    if (note.refers_to_seq > 0) {
      store.scan({note.refers_to_seq, note.refers_to_seq}, [&](const Event& e) {
        referenced = e;
        return false;
      });
    }
    if (!referenced)
      throw ConfigError(Field{"refers_to_seq"},
                        fmt::format("{}: no such event (the journal has seq 1..{})",
                                    note.refers_to_seq, store.last_seq()));
    event = make_event(referenced->ts_ns, referenced->symbol, note);
  } else {
    const std::int32_t day = Calendar::parse_day(note.day);
    event = make_event(journal_calendar(store).bounds(day).first, "", note);
  }
  try {
    store.append(event);
    store.commit();
  } catch (...) {
    store.rollback();
    throw;
  }
  return event;
}

}  // namespace blotter
