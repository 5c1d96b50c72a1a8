// Fuzzes decode_payload: the first byte picks the event type, the rest is the
// JSON text. Anything is decoded or refused with blotter::Error; whatever is
// decoded encodes to text that decodes to the same payload (decode, encode,
// decode, encode gives the same text twice); and whatever the canonical fast
// path accepts, the strict decoder reads to the same payload.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "blotter/error.h"
#include "blotter/event.h"
#include "events/payload_json.h"

namespace {

#define FUZZ_CHECK(condition)                                                            \
  do {                                                                                   \
    if (!(condition)) {                                                                  \
      std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #condition); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace blotter;
  if (size == 0) return 0;
  const auto type = static_cast<EventType>(data[0] % kEventTypeCount);
  const std::string_view json(reinterpret_cast<const char*>(data + 1), size - 1);
  if (const auto fast = detail::decode_canonical_payload(type, json)) {
    Event strict, canonical;
    strict.payload = detail::decode_payload_strict(type, json);  // throws, and so fails, if not
    canonical.payload = *fast;
    FUZZ_CHECK(encode_payload(canonical) == encode_payload(strict));
  }
  Event event;
  try {
    event.payload = decode_payload(type, json);
  } catch (const Error& e) {
    FUZZ_CHECK(std::string_view(e.what()).find(to_string(type)) != std::string_view::npos);
    return 0;
  }
  FUZZ_CHECK(event.type() == type);
  const std::string first = encode_payload(event);
  Event again;
  again.payload = decode_payload(type, first);  // throws, and so fails, if not decodable
  FUZZ_CHECK(again.type() == type);
  FUZZ_CHECK(encode_payload(again) == first);
  return 0;
}
