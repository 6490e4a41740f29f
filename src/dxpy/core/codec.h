#pragma once
/// Compact binary form of the core types.
///
/// A value is `{u8 tag, u8 kCodecVersion, fields...}`. Fields are written in declaration
/// order: integers as LEB128 varints, strings and vectors as a varint count then the
/// items, enums as one byte, an optional as a presence byte (0 or 1) then its value. One
/// visitor per type (`visit_fields`) serves both encode and decode, so the two cannot drift
/// apart. Decoding checks the tag, the version, every length against the bytes left, enum
/// ranges, presence bytes and that no bytes trail: garbage or truncated input gives an
/// Error, never a crash or an out-of-bounds read.

#include <string>
#include <string_view>

#include "dxpy/core/types.h"
#include "dxpy/util/expected.h"

namespace dxpy {

/// 2: TestId's param became optional (an empty id is a real one); TestResult gained its
/// JUnit properties.
inline constexpr uint8_t kCodecVersion = 2;

enum class CodecTag : uint8_t {
  kTestId = 1,
  kMarker = 2,
  kFixtureId = 3,
  kTestCase = 4,
  kAssertionStats = 5,
  kTestResult = 6,
  kFixtureDef = 7,
  kImportRef = 8,
  kFileRecord = 9,
};

std::string encode(const TestId& v);
std::string encode(const Marker& v);
std::string encode(const FixtureId& v);
std::string encode(const TestCase& v);
std::string encode(const AssertionStats& v);
std::string encode(const TestResult& v);
std::string encode(const FixtureDef& v);
std::string encode(const ImportRef& v);
std::string encode(const FileRecord& v);

/// decode<T>(bytes) for each of the types above.
template <class T>
Expected<T> decode(std::string_view bytes);

/// The head of an encoded FileRecord, without decoding its tests, fixtures or outline.
Expected<FileRecordHead> decode_record_head(std::string_view file_record_bytes);

}  // namespace dxpy
