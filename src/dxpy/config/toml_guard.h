#pragma once
/// A check of TOML text before toml++ 3.3.0 (Debian 12's) reads it. That version's
/// `is_non_ascii_horizontal_whitespace` reaches `__builtin_unreachable()` for most code points
/// from U+00A1 to U+3057 (undefined behaviour, found by the config fuzzer), and the parser asks
/// it about every character of a bare key or table name, about the character after a
/// backslash in a basic string, and about the first character after a line-ending backslash
/// in a multi-line basic string. TOML allows no non-ASCII character in the first two places,
/// so refusing it there refuses only invalid TOML; the third is valid TOML that this check
/// refuses too, with a message that says why.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace dxpy::config {

struct TomlGuardError {
  size_t line = 1;    // 1-based
  size_t column = 1;  // 1-based, in bytes
  std::string message;
};

/// nullopt when toml++ may read `text`; else where and why not.
std::optional<TomlGuardError> check_toml_for_toml_plus_plus(std::string_view text);

}  // namespace dxpy::config
