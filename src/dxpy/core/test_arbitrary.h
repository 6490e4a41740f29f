#pragma once
/// rapidcheck generators for the core types, shared by every component's property tests.

#include <rapidcheck.h>

#include <optional>

#include "dxpy/core/types.h"

namespace rc {

// rapidcheck has no std::optional: none, or any value (the empty one among them).
template <class T>
struct Arbitrary<std::optional<T>> {
  static Gen<std::optional<T>> arbitrary() {
    return gen::oneOf(gen::just(std::optional<T>()),
                      gen::map(gen::arbitrary<T>(), [](T v) { return std::optional<T>(std::move(v)); }));
  }
};

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
                                  gen::set(&TestResult::stderr_text), gen::set(&TestResult::assertions),
                                  gen::set(&TestResult::properties), gen::set(&TestResult::suite_properties),
                                  gen::set(&TestResult::worker_warnings));
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
