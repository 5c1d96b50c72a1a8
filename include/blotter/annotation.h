// Notes added to a journal after the fact: ANNOTATION events.
#pragma once

#include "blotter/event.h"
#include "blotter/store.h"

namespace blotter {

// Appends an ANNOTATION with `note` to `store` and commits it (with the
// store's open batch, if any); returns the event as journaled. Its event time is the referenced
// event's (symbol too), or for a day the start of that trading day in the time zone of the
// journal's latest run (UTC without one). Throws blotter::ConfigError, having
// appended nothing, if not exactly one of note.refers_to_seq and note.day is
// given, the seq is not in the journal, the day is not a valid YYYY-MM-DD
// date or the text is blank; blotter::StoreError if the store fails.
Event annotate(EventStore& store, const Annotation& note);

}  // namespace blotter
