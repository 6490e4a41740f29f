// Property 5 (Protocol Message Round-Trip) for every core type, and decoding of
// truncated or garbage bytes, which must give an error and never crash.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include "dxpy/core/codec.h"

namespace rc {

inline Gen<std::string> identifier() {
  return gen::map(gen::pair(gen::elementOf(std::string("abcxyzT_")),
                            gen::container<std::string>(gen::elementOf(std::string("abcxyz_019T")))),
                  [](std::pair<char, std::string> p) { return std::string(1, p.first) + p.second; });
}

template <>
struct Arbitrary<dxpy::TestStatus> {
  static Gen<dxpy::TestStatus> arbitrary() {
    return gen::cast<dxpy::TestStatus>(gen::inRange<uint8_t>(0, dxpy::kTestStatusCount));
  }
};
template <>
struct Arbitrary<dxpy::TestKind> {
  static Gen<dxpy::TestKind> arbitrary() { return gen::cast<dxpy::TestKind>(gen::inRange<uint8_t>(0, 3)); }
};
template <>
struct Arbitrary<dxpy::TestId> {
  static Gen<dxpy::TestId> arbitrary() {
    return gen::build<dxpy::TestId>(gen::set(&dxpy::TestId::path), gen::set(&dxpy::TestId::classes),
                                    gen::set(&dxpy::TestId::name), gen::set(&dxpy::TestId::param));
  }
};
template <>
struct Arbitrary<dxpy::Marker> {
  static Gen<dxpy::Marker> arbitrary() {
    return gen::build<dxpy::Marker>(gen::set(&dxpy::Marker::name), gen::set(&dxpy::Marker::args),
                                    gen::set(&dxpy::Marker::kwargs));
  }
};
template <>
struct Arbitrary<dxpy::FixtureId> {
  static Gen<dxpy::FixtureId> arbitrary() {
    return gen::build<dxpy::FixtureId>(gen::set(&dxpy::FixtureId::name), gen::set(&dxpy::FixtureId::path),
                                       gen::set(&dxpy::FixtureId::line));
  }
};
template <>
struct Arbitrary<dxpy::AssertionStats> {
  static Gen<dxpy::AssertionStats> arbitrary() {
    return gen::build<dxpy::AssertionStats>(gen::set(&dxpy::AssertionStats::passed),
                                            gen::set(&dxpy::AssertionStats::failed));
  }
};
template <>
struct Arbitrary<dxpy::TestCase> {
  static Gen<dxpy::TestCase> arbitrary() {
    using dxpy::TestCase;
    return gen::build<TestCase>(gen::set(&TestCase::id), gen::set(&TestCase::file), gen::set(&TestCase::line),
                                gen::set(&TestCase::kind), gen::set(&TestCase::is_async),
                                gen::set(&TestCase::expand_at_runtime), gen::set(&TestCase::markers),
                                gen::set(&TestCase::fixtures));
  }
};
template <>
struct Arbitrary<dxpy::TestResult> {
  static Gen<dxpy::TestResult> arbitrary() {
    using dxpy::TestResult;
    return gen::build<TestResult>(gen::set(&TestResult::id), gen::set(&TestResult::status),
                                  gen::set(&TestResult::duration_ns), gen::set(&TestResult::message),
                                  gen::set(&TestResult::traceback), gen::set(&TestResult::stdout_text),
                                  gen::set(&TestResult::stderr_text), gen::set(&TestResult::assertions));
  }
};

template <>
struct Arbitrary<dxpy::FixtureScope> {
  static Gen<dxpy::FixtureScope> arbitrary() {
    return gen::cast<dxpy::FixtureScope>(gen::inRange<uint8_t>(0, dxpy::kFixtureScopeCount));
  }
};
template <>
struct Arbitrary<dxpy::FixtureDef> {
  static Gen<dxpy::FixtureDef> arbitrary() {
    using dxpy::FixtureDef;
    return gen::build<FixtureDef>(gen::set(&FixtureDef::id), gen::set(&FixtureDef::scope),
                                  gen::set(&FixtureDef::autouse), gen::set(&FixtureDef::params),
                                  gen::set(&FixtureDef::requests));
  }
};
template <>
struct Arbitrary<dxpy::ImportRef> {
  static Gen<dxpy::ImportRef> arbitrary() {
    using dxpy::ImportRef;
    return gen::build<ImportRef>(gen::set(&ImportRef::module), gen::set(&ImportRef::names),
                                 gen::set(&ImportRef::aliases), gen::set(&ImportRef::alias),
                                 gen::set(&ImportRef::level), gen::set(&ImportRef::line),
                                 gen::set(&ImportRef::nested));
  }
};
template <>
struct Arbitrary<dxpy::FileRecord> {
  static Gen<dxpy::FileRecord> arbitrary() {
    using dxpy::FileRecord;
    return gen::build<FileRecord>(gen::set(&FileRecord::path), gen::set(&FileRecord::size),
                                  gen::set(&FileRecord::mtime_ns), gen::set(&FileRecord::content_hash),
                                  gen::set(&FileRecord::tests, gen::resize(8, gen::arbitrary<std::vector<dxpy::TestCase>>())),
                                  gen::set(&FileRecord::fixtures), gen::set(&FileRecord::imports),
                                  gen::set(&FileRecord::error), gen::set(&FileRecord::error_line),
                                  gen::set(&FileRecord::outline), gen::set(&FileRecord::depends_on));
  }
};

}  // namespace rc

namespace dxpy {
namespace {

template <class T>
void check_round_trip(const T& v) {
  auto bytes = encode(v);
  auto back = decode<T>(bytes);
  RC_ASSERT(back.has_value());
  RC_ASSERT(*back == v);
}

// Every strict prefix is rejected, and so is any trailing byte.
template <class T>
void check_truncation(const T& v) {
  auto bytes = encode(v);
  auto cut = *rc::gen::inRange<size_t>(0, bytes.size());
  RC_ASSERT(!decode<T>(std::string_view(bytes).substr(0, cut)).has_value());
  RC_ASSERT(!decode<T>(bytes + std::string(1, '\0')).has_value());
}

RC_GTEST_PROP(CoreCodec, TestIdRoundTrips, (const TestId& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, MarkerRoundTrips, (const Marker& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FixtureIdRoundTrips, (const FixtureId& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TestCaseRoundTrips, (const TestCase& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, AssertionStatsRoundTrips, (const AssertionStats& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TestResultRoundTrips, (const TestResult& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FixtureDefRoundTrips, (const FixtureDef& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, ImportRefRoundTrips, (const ImportRef& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, FileRecordRoundTrips, (const FileRecord& v)) { check_round_trip(v); }
RC_GTEST_PROP(CoreCodec, TruncatedFileRecordIsAnError, (const FileRecord& v)) { check_truncation(v); }

RC_GTEST_PROP(CoreCodec, RecordHeadDecodesFromTheFrontOfARecord, (const FileRecord& v)) {
  auto head = decode_record_head(encode(v));
  RC_ASSERT(head.has_value());
  RC_ASSERT(head->path == v.path);
  RC_ASSERT(head->size == v.size);
  RC_ASSERT(head->mtime_ns == v.mtime_ns);
  RC_ASSERT(head->content_hash == v.content_hash);
  RC_ASSERT(head->error == v.error);
  RC_ASSERT(head->error_line == v.error_line);
  RC_ASSERT(head->depends_on == v.depends_on);
}

RC_GTEST_PROP(CoreCodec, TruncatedTestCaseIsAnError, (const TestCase& v)) { check_truncation(v); }
RC_GTEST_PROP(CoreCodec, TruncatedTestResultIsAnError, (const TestResult& v)) { check_truncation(v); }

// Fuzz-style: arbitrary bytes, with or without a valid header, never crash the decoder.
RC_GTEST_PROP(CoreCodec, GarbageNeverCrashes, (const std::string& junk, bool valid_header, uint8_t tag)) {
  std::string bytes = valid_header ? std::string{static_cast<char>(tag % 10), static_cast<char>(kCodecVersion)} + junk
                                   : junk;
  (void)decode<TestId>(bytes);
  (void)decode<Marker>(bytes);
  (void)decode<FixtureId>(bytes);
  (void)decode<TestCase>(bytes);
  (void)decode<AssertionStats>(bytes);
  (void)decode<TestResult>(bytes);
  (void)decode<FixtureDef>(bytes);
  (void)decode<ImportRef>(bytes);
  (void)decode<FileRecord>(bytes);
}

// Flipping one byte of a valid encoding gives an error or some value, never a crash.
RC_GTEST_PROP(CoreCodec, BitFlipsNeverCrash, (const TestResult& v, uint8_t flip)) {
  auto bytes = encode(v);
  auto at = *rc::gen::inRange<size_t>(0, bytes.size());
  bytes[at] = static_cast<char>(bytes[at] ^ (flip | 1));
  (void)decode<TestResult>(bytes);
}

TEST(CoreCodec, RejectsWrongTagAndVersion) {
  auto bytes = encode(TestId{"a.py", {}, "test_a", ""});
  auto wrong_tag = decode<TestCase>(bytes);
  ASSERT_FALSE(wrong_tag);
  EXPECT_EQ(wrong_tag.error().code, Errc::kCorrupt);
  bytes[1] = static_cast<char>(kCodecVersion + 1);
  auto wrong_version = decode<TestId>(bytes);
  ASSERT_FALSE(wrong_version);
  EXPECT_EQ(wrong_version.error().code, Errc::kVersion);
}

TEST(CoreCodec, HugeCountIsRejectedWithoutAllocating) {
  // tag, version, path "", classes count = 2^60
  std::string bytes = {static_cast<char>(CodecTag::kTestId), static_cast<char>(kCodecVersion), 0};
  for (int i = 0; i < 8; ++i) bytes.push_back('\x80');
  bytes.push_back('\x10');
  auto r = decode<TestId>(bytes);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::kCorrupt);
}

RC_GTEST_PROP(TestIdText, NodeIdRoundTrips, ()) {
  TestId id;
  id.path = *rc::gen::map(rc::identifier(), [](std::string s) { return "tests/" + s + ".py"; });
  id.classes = *rc::gen::container<std::vector<std::string>>(rc::identifier());
  id.name = *rc::identifier();
  id.param = *rc::gen::arbitrary<std::string>();
  RC_ASSERT(TestId::parse(id.node_id()) == id);
}

}  // namespace
}  // namespace dxpy
