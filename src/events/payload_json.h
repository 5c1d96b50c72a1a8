// The two halves of decode_payload, and the JSON string writer shared by the
// payload encoder and replay's JSON lines. Private to the library and its tests.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "blotter/event.h"

namespace blotter::detail {

// Appends `text` as a JSON string, byte for byte as nlohmann's dump() writes
// it: '"' and '\\' escaped, control characters as \b \f \n \r \t or \u00xx,
// other UTF-8 as is, invalid UTF-8 replaced by U+FFFD.
void append_json_string(std::string& out, std::string_view text);

// The payload of `json` if it is exactly in the form encode_payload writes
// (keys in the type's order, no whitespace, strings of printable ASCII without
// escapes) and decodes without error; nullopt for anything else, valid or
// not. Only the types journaled once per market event have this fast path:
// TICK, BAR, SIGNAL, ORDER, FILL, RISK_REJECTED and HANDLER_ERROR.
std::optional<Payload> decode_canonical_payload(EventType type, std::string_view json);

// decode_payload for any JSON text: parses it with nlohmann::json and checks
// every field, throwing the errors decode_payload documents.
Payload decode_payload_strict(EventType type, std::string_view json);

}  // namespace blotter::detail
