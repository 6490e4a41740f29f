#pragma once
/// Text helpers that follow Python's str semantics, so that INI parsing and error messages
/// agree with iniconfig and pytest: code points, str.isspace(), str.strip(), repr().

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dxpy {

/// UTF-8 to code points; nullopt if `s` is not valid UTF-8 (Python would refuse the file).
std::optional<std::u32string> decode_utf8(std::string_view s);
/// Like decode_utf8, but a byte that is not part of a valid sequence becomes one code point.
std::u32string decode_utf8_lossy(std::string_view s);
std::string encode_utf8(std::u32string_view s);
/// Appends one code point as UTF-8.
void append_utf8(std::string& out, char32_t c);
/// The value of a hexadecimal digit, or -1.
int hex_digit_value(char c);

/// Decodes one escape of a Python string literal: s[p] is the character after the
/// backslash, and p ends past the escape. Unknown escapes stay as written ("\\d"), as Python
/// keeps them; in a bytes literal (`bytes`) \u, \U and \N are not escapes either. false for
/// what cannot be evaluated here (\N{...}) and for a malformed \x, \u or \U.
bool decode_python_escape(std::string_view s, size_t& p, std::string& out, bool bytes);

/// str.isspace() for one code point.
bool is_py_space(char32_t c);
std::u32string_view py_strip(std::u32string_view s);
std::u32string_view py_lstrip(std::u32string_view s);
std::u32string_view py_rstrip(std::u32string_view s);

/// repr() of a str: 'text' or "text" with Python's escapes.
std::string py_repr(std::string_view utf8);

/// The non-empty pieces of `s` between `sep`s: the lines of a command's output, the
/// entries of a colon-separated list.
std::vector<std::string> split_nonempty(std::string_view s, char sep);

}  // namespace dxpy
