#pragma once
/// "Did you mean ...?": the closest of some names to a mistyped one.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace dxpy {

/// Edit distance with adjacent transpositions (optimal string alignment): "maxfial" is one
/// edit from "maxfail".
size_t edit_distance(std::string_view a, std::string_view b);

/// The candidate closest to `word`, if it is close enough to be what was meant: at most one
/// edit per three characters of the longer name (and at least one), ties to the first given.
/// Nothing for an exact match, which is not a typo.
std::optional<std::string> closest_match(std::string_view word, const std::vector<std::string>& candidates);

}  // namespace dxpy
