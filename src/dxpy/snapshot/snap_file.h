#pragma once
/// .snap: the snapshot file beside a test module (`tests/__snapshots__/test_x.snap` for
/// `tests/test_x.py`), text meant to be read and reviewed in a diff.
///
///   # dx-py snapshots v1 ...        comment lines, only before the first entry
///   == TEST | NAME                  an entry's header: the test's node id and the name
///     VALUE LINE                    each line of the value, after two spaces
///                                   an empty value line may be empty (no spaces)
///
/// TEST and NAME escape `\` as `\\`, a newline as `\n`, a carriage return as `\r` and `|`
/// as `\|`, so the first unescaped " | " splits them. The value is split on "\n" only and
/// every piece becomes one line, so "a\n" is the lines "  a" and "" and any text, a line
/// that looks like a header included, comes back byte for byte: a value line always starts
/// with two spaces (or is empty), a header with "== ". Entries are sorted by (TEST, NAME)
/// bytewise and unique: the same entries always render to the same bytes.

#include <string>
#include <string_view>
#include <vector>

#include "dxpy/util/expected.h"

namespace dxpy::snapshot {

struct Entry {
  std::string test;   // node id
  std::string name;   // dx.snapshot(name=...), or "1", "2"... in call order
  std::string value;  // the serialized value
  bool operator==(const Entry&) const = default;
};

inline constexpr std::string_view kSnapHeader =
    "# dx-py snapshots v1: \"== test | name\" starts an entry; its value follows, each line "
    "indented by two spaces (docs/snapshots.md)";

/// Sorts by (test, name) and keeps the last of equal keys.
void normalize(std::vector<Entry>& entries);
/// The file's bytes; `entries` must be normalized.
std::string render(const std::vector<Entry>& entries);
/// kParse (with the line number) on a line that is neither comment, header nor value, or
/// on a duplicate key. Entries come back sorted.
Expected<std::vector<Entry>> parse(std::string_view text);

/// The header escaping of one field, and its inverse (kParse on a dangling backslash).
std::string escape_field(std::string_view s);
Expected<std::string> unescape_field(std::string_view s);

}  // namespace dxpy::snapshot
