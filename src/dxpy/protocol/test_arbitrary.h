#pragma once
/// rapidcheck generators for the protocol messages (tests only); core types come from
/// core/test_arbitrary.h.

#include <rapidcheck.h>

#include "dxpy/core/test_arbitrary.h"
#include "dxpy/core/types.h"
#include "dxpy/protocol/message.h"

namespace rc {

template <>
struct Arbitrary<dxpy::protocol::LogLevel> {
  static Gen<dxpy::protocol::LogLevel> arbitrary() {
    return gen::cast<dxpy::protocol::LogLevel>(gen::inRange<uint8_t>(0, dxpy::protocol::kLogLevelLimit));
  }
};

template <>
struct Arbitrary<dxpy::protocol::TestMessage> {
  static Gen<dxpy::protocol::TestMessage> arbitrary() {
    using dxpy::protocol::TestMessage;
    return gen::build<TestMessage>(gen::set(&TestMessage::sequence), gen::set(&TestMessage::timeout_ms),
                                   gen::set(&TestMessage::worker_id), gen::set(&TestMessage::attempt),
                                   gen::set(&TestMessage::last_of_module), gen::set(&TestMessage::test));
  }
};
template <>
struct Arbitrary<dxpy::protocol::TestResultMessage> {
  static Gen<dxpy::protocol::TestResultMessage> arbitrary() {
    using dxpy::protocol::TestResultMessage;
    return gen::build<TestResultMessage>(gen::set(&TestResultMessage::sequence), gen::set(&TestResultMessage::worker_id),
                                         gen::set(&TestResultMessage::output_truncated),
                                         gen::set(&TestResultMessage::result),
                                         gen::set(&TestResultMessage::more_results));
  }
};
template <>
struct Arbitrary<dxpy::protocol::HelloMessage> {
  static Gen<dxpy::protocol::HelloMessage> arbitrary() {
    using dxpy::protocol::HelloMessage;
    return gen::build<HelloMessage>(gen::set(&HelloMessage::pid), gen::set(&HelloMessage::worker_id),
                                    gen::set(&HelloMessage::python_version));
  }
};
template <>
struct Arbitrary<dxpy::protocol::ShutdownMessage> {
  static Gen<dxpy::protocol::ShutdownMessage> arbitrary() {
    using dxpy::protocol::ShutdownMessage;
    return gen::build<ShutdownMessage>(gen::set(&ShutdownMessage::grace_ms), gen::set(&ShutdownMessage::interrupted));
  }
};
template <>
struct Arbitrary<dxpy::protocol::LogMessage> {
  static Gen<dxpy::protocol::LogMessage> arbitrary() {
    using dxpy::protocol::LogMessage;
    return gen::build<LogMessage>(gen::set(&LogMessage::level), gen::set(&LogMessage::worker_id),
                                  gen::set(&LogMessage::sequence), gen::set(&LogMessage::text));
  }
};
template <>
struct Arbitrary<dxpy::protocol::CollectErrorMessage> {
  static Gen<dxpy::protocol::CollectErrorMessage> arbitrary() {
    using dxpy::protocol::CollectErrorMessage;
    return gen::build<CollectErrorMessage>(gen::set(&CollectErrorMessage::worker_id),
                                           gen::set(&CollectErrorMessage::sequence),
                                           gen::set(&CollectErrorMessage::file), gen::set(&CollectErrorMessage::message),
                                           gen::set(&CollectErrorMessage::traceback));
  }
};

}  // namespace rc
