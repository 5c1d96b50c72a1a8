// docs/JOURNAL_FORMAT.md against the payload declarations: each event type's
// table of fields lists the declared fields, in order, with their JSON types.
#include <doctest/doctest.h>

#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "blotter/event.h"
#include "events/payload_fields.h"

using namespace blotter;

namespace {

// The document's payload tables: for each "#### `TYPE`" heading, the rows of
// the table under it, each a field's name (without backticks) and JSON type.
std::map<std::string, std::vector<detail::FieldDescription>> documented_fields(std::istream& doc) {
  std::map<std::string, std::vector<detail::FieldDescription>> tables;
  std::vector<detail::FieldDescription>* table = nullptr;
  const auto cells = [](const std::string& line) {
    std::vector<std::string> out;
    std::size_t start = 1;  // after the leading '|'
    for (std::size_t bar; (bar = line.find('|', start)) != std::string::npos; start = bar + 1) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      out.push_back(cell);
    }
    return out;
  };
  for (std::string line; std::getline(doc, line);) {
    if (line.rfind("#### `", 0) == 0 && line.size() > 7 && line.back() == '`') {
      table = &tables[line.substr(6, line.size() - 7)];
    } else if (line.rfind('#', 0) == 0) {
      table = nullptr;
    } else if (table && line.rfind("| `", 0) == 0) {
      const auto row = cells(line);
      REQUIRE_MESSAGE(row.size() >= 2, "a field row without a JSON type: ", line);
      table->push_back({row[0].substr(1, row[0].size() - 2), row[1]});
    }
  }
  return tables;
}

std::map<std::string, std::vector<detail::FieldDescription>> read_document() {
  std::ifstream doc(BLOTTER_SOURCE_DIR "/docs/JOURNAL_FORMAT.md");
  REQUIRE_MESSAGE(doc, "cannot read docs/JOURNAL_FORMAT.md");
  return documented_fields(doc);
}

}  // namespace

TEST_SUITE("journal_format") {
  TEST_CASE("the document lists each payload's declared fields, in order, with their types") {
    const auto tables = read_document();
    for (std::size_t i = 0; i < kEventTypeCount; ++i) {
      const auto type = static_cast<EventType>(i);
      const std::string name(to_string(type));
      CAPTURE(name);
      const auto found = tables.find(name);
      REQUIRE_MESSAGE(found != tables.end(), "no table of fields for ", name);
      const auto& documented = found->second;
      const auto declared = detail::describe_payload(type);
      for (std::size_t k = 0; k < std::max(documented.size(), declared.size()); ++k) {
        if (k >= documented.size()) {
          FAIL_CHECK(name, ": field '", declared[k].name, "' is declared but not documented");
        } else if (k >= declared.size()) {
          FAIL_CHECK(name, ": field '", documented[k].name, "' is documented but not declared");
        } else {
          CHECK_MESSAGE(documented[k].name == declared[k].name, name, ": field ", k + 1, " is '",
                        declared[k].name, "', the document says '", documented[k].name, "'");
          CHECK_MESSAGE(documented[k].json_type == declared[k].json_type, name, ": field '",
                        declared[k].name, "' is of JSON type '", declared[k].json_type,
                        "', the document says '", documented[k].json_type, "'");
        }
      }
    }
  }

  TEST_CASE("the document has no table for a type that does not exist") {
    for (const auto& [name, fields] : read_document()) {
      CAPTURE(name);
      CHECK(parse_event_type(name).has_value());
    }
  }

  TEST_CASE("the tables are read as written: a changed name or type is a difference") {
    std::istringstream doc(
        "#### `TICK`\n\n| field | JSON type | meaning |\n|---|---|---|\n"
        "| `price` | decimal | the price |\n| `size` | string | |\n\n## Views\n"
        "| `not` | a field | |\n");
    const auto tables = documented_fields(doc);
    REQUIRE(tables.size() == 1);
    const auto& tick = tables.at("TICK");
    REQUIRE(tick.size() == 2);
    const auto declared = detail::describe_payload(EventType::kTick);
    CHECK(tick[0].name == declared[0].name);
    CHECK(tick[0].json_type == declared[0].json_type);
    CHECK(tick[1].name != declared[1].name);
    CHECK(tick[1].json_type != declared[1].json_type);
  }

  TEST_CASE("a field read as a default when absent is documented with that default") {
    const auto finished = detail::describe_payload(EventType::kRunFinished);
    REQUIRE(finished.size() == 5);
    CHECK(finished[3].name == "resumed_at");
    CHECK(finished[3].json_type == "[seq]; absent: []");
    CHECK(finished[4].name == "ended");
    CHECK(
        finished[4].json_type ==
        R"("end_of_input" or "sigint" or "sigterm" or "until" or "bad_row"; absent: "end_of_input")");
    const auto started = detail::describe_payload(EventType::kRunStarted);
    REQUIRE(started.size() >= 11);
    CHECK(started[2].json_type == R"("bars" or "ticks")");
    CHECK(started[10].json_type == R"("signal" or "next-open")");
    CHECK(detail::describe_payload(EventType::kOrder)[0].json_type == R"("buy" or "sell")");
  }
}
