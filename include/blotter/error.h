// blotter reports every failure by throwing an exception derived from
// blotter::Error. No SQLite, SQLiteCpp or JSON exception leaves the public API.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace blotter {

class Error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Bad input data: what() is one line, "FILE:LINE: field 'F': what was wrong".
class InputError : public Error {
 public:
  InputError(std::string file, std::int64_t line, std::string field, const std::string& message);

  const std::string& file() const { return file_; }
  std::int64_t line() const { return line_; }  // 1-based; 0 if not a line
  const std::string& field() const { return field_; }

 private:
  std::string file_;
  std::int64_t line_;
  std::string field_;
};

// The journal could not be opened, read or written.
class StoreError : public Error {
 public:
  using Error::Error;
};

// A configuration field, named as the library names it: the member of a
// configuration struct or the parameter that holds the value.
struct Field {
  std::string name;
};

// An invalid option or combination of options. A message may name the
// fields it is about: what() names them as the library does ("window must be
// at least 2 (got 1)"), and message() as the caller does (a command line, say,
// by the flag that sets each: "--window must be at least 2 (got 1)").
//
// The fields the library names:
//   window                        SignalConfig
//   entry, exit                   BreakoutConfig
//   slippage_bps, commission      ExecutionConfig
//   capital, quantity, risk_per_trade, max_daily_loss, max_position
//                                 RiskConfig (and ResimOverrides)
//   speed                         replay_events
//   run_seq                       state_at, resimulate, AuditOptions
//   run1, run2                    DiffOptions
//   from_day, to_day              audit_range
//   refers_to_seq, day            Annotation
//   sync_interval                 JournalOptions, RunConfig
class ConfigError : public Error {
 public:
  // A piece of a message: text, or a field.
  using Part = std::variant<std::string, Field>;

  // A message that names no field.
  using Error::Error;

  // A message about `field`: "FIELD MESSAGE" (`message` follows the field's
  // name after a space).
  ConfigError(const Field& field, const std::string& message);

  // A message of text and fields, in order: {Field{"from_day"}, " 2024-03-01
  // is after ", Field{"to_day"}, " 2024-02-01"}.
  explicit ConfigError(std::vector<Part> parts);

  // The message with each field named by `name(field's name)`; what() when
  // the message names no field.
  std::string message(const std::function<std::string(const std::string&)>& name) const;

  // The names of the fields the message names, in order; empty if none.
  std::vector<std::string> fields() const;

 private:
  // Shared: copying an exception does not throw.
  std::shared_ptr<const std::vector<Part>> parts_;
};

}  // namespace blotter
