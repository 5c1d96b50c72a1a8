#include "blotter/market_data_source.h"

#include "blotter/error.h"
#include "blotter/terminal_text.h"

namespace blotter {

InputRejected input_rejected(const InputError& error, std::string_view raw_row) {
  return InputRejected{error.line(), error.field(), error.what(),
                       terminal_text(raw_row, kQuotedInputBytes)};
}

}  // namespace blotter
