// The protocol channel for Python: the worker's end (WorkerChannel), and the orchestrator's
// end (OrchestratorChannel) so that Python tests and benchmarks can drive a real worker.
//
// Errors become two exception types: ChannelClosed (a ConnectionError) when the other side
// is gone or the end was closed, ProtocolError (a ValueError) for anything malformed: a
// corrupt ring, a message over the limit, bytes that do not decode. Waits release the GIL;
// decoding and encoding hold it (they touch Python-owned objects and take microseconds).
#include <nanobind/stl/string.h>
#include <nanobind/stl/string_view.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include "dxpy/bindings/bind.h"
#include "dxpy/protocol/channel.h"
#include "dxpy/protocol/message.h"

namespace nb = nanobind;

namespace dxpy::bindings {

namespace {

using protocol::Channel;

struct ChannelClosed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

[[noreturn]] void raise(const Error& e) {
  if (e.code == Errc::kIo) throw ChannelClosed(e.message);
  throw ProtocolError(e.message);
}

/// A message of a valid type that the receiving side has no use for.
struct OtherMessage {
  std::string type;  // to_string(MessageType): "log", "hello", ...
};

/// One end of a channel. Both Python classes hold one; close() drops it, so the other side
/// sees the end of file. Not thread-safe against close(): one thread per end.
class End {
 public:
  explicit End(std::unique_ptr<Channel> ch) : ch_(std::move(ch)) {}

  Channel& get() {
    if (!ch_) throw ChannelClosed("the channel is closed");
    return *ch_;
  }
  void close() { ch_.reset(); }
  bool closed() const { return ch_ == nullptr; }

  /// `lazy`: do not wake a sleeping receiver (Channel::send_lazy).
  void send(std::string_view bytes, bool lazy = false) {
    Channel& ch = get();
    Expected<void> sent;
    {
      nb::gil_scoped_release unlocked;  // blocks while the ring is full
      sent = lazy ? ch.send_lazy(bytes) : ch.send(bytes);
    }
    if (!sent) raise(sent.error());
  }

  /// The next message's bytes, or nullopt on timeout.
  std::optional<std::string> receive(int timeout_ms) {
    Channel& ch = get();
    Expected<std::optional<std::string>> got = std::optional<std::string>{};
    {
      nb::gil_scoped_release unlocked;
      got = ch.receive(timeout_ms);
    }
    if (!got) raise(got.error());
    return std::move(*got);
  }

 private:
  std::unique_ptr<Channel> ch_;
};

template <class T>
T value_or_raise(Expected<T> r) {
  if (!r) raise(r.error());
  return std::move(*r);
}

/// A decoding error is always a ProtocolError, whatever its code.
template <class T>
nb::object decoded(Expected<T> r) {
  if (!r) throw ProtocolError(r.error().message);
  return nb::cast(std::move(*r));
}

/// Decodes `bytes` into the bound message type the caller expects for its type; another
/// valid type becomes an OtherMessage.
template <class Decoders>
nb::object decode_message(const std::string& bytes, Decoders&& decode_known) {
  auto header = protocol::read_header(bytes);
  if (!header) throw ProtocolError(header.error().message);
  if (nb::object known = decode_known(header->type, bytes); known.is_valid()) return known;
  auto type = protocol::validate(bytes);
  if (!type) throw ProtocolError(type.error().message);
  return nb::cast(OtherMessage{std::string(protocol::to_string(*type))});
}

class WorkerChannel {
 public:
  static WorkerChannel attach(std::string_view fds_text, uint64_t max_message) {
    protocol::ChannelFds fds = value_or_raise(protocol::parse_fds(fds_text));
    return WorkerChannel(value_or_raise(Channel::attach(fds, max_message)));
  }

  void send_hello(uint32_t pid, uint16_t worker_id, std::string version) {
    protocol::HelloMessage m{pid, worker_id, std::move(version)};
    end_.send(protocol::encode(m));
  }

  /// While more tests wait in the inbound ring the orchestrator need not wake for this
  /// result (it takes results on a short timer while tests run): only the result after
  /// which this worker would wait for work wakes it. That saves a wake-up per test.
  void send_result(uint64_t sequence, uint16_t worker_id, const TestResult& result, bool output_truncated,
                   bool more_results) {
    protocol::TestResultMessage m{sequence, worker_id, output_truncated, more_results, result};
    bool lazy = more_results || end_.get().has_inbound();
    end_.send(protocol::encode(m), lazy);
  }

  nb::object receive(int timeout_ms) {
    std::optional<std::string> bytes = end_.receive(timeout_ms);
    if (!bytes) return nb::none();
    return decode_message(*bytes, [](protocol::MessageType type, const std::string& b) -> nb::object {
      switch (type) {
        case protocol::MessageType::kTest:
          return decoded(protocol::decode_test(b));
        case protocol::MessageType::kShutdown:
          return decoded(protocol::decode_shutdown(b));
        default:
          return nb::object();
      }
    });
  }

  void close() { end_.close(); }
  bool closed() const { return end_.closed(); }

 private:
  explicit WorkerChannel(std::unique_ptr<Channel> ch) : end_(std::move(ch)) {}
  End end_;
};

class OrchestratorChannel {
 public:
  /// The orchestrator's end and the worker's descriptors as format_fds() writes them. The
  /// descriptors are close-on-exec and belong to the caller (close_channel_fds()).
  static nb::tuple create(uint32_t ring_bytes, uint64_t max_message) {
    protocol::ChannelOptions options;
    options.ring_bytes = ring_bytes;
    options.max_message = max_message;
    protocol::ChannelEnds ends = value_or_raise(Channel::create(options));
    std::string fds = protocol::format_fds(ends.worker);
    return nb::make_tuple(nb::cast(OrchestratorChannel(std::move(ends.orchestrator))), fds);
  }

  void send_test(uint64_t sequence, const TestCase& test, uint32_t timeout_ms, uint16_t worker_id,
                 bool last_of_module, uint16_t attempt) {
    protocol::TestMessage m{sequence, timeout_ms, worker_id, attempt, last_of_module, test};
    end_.send(protocol::encode(m));
  }

  void send_shutdown(uint32_t grace_ms, bool interrupted) {
    end_.send(protocol::encode(protocol::ShutdownMessage{grace_ms, interrupted}));
  }

  /// Any bytes as one message: for tests of how a worker treats what it does not expect.
  void send_raw(nb::bytes data) { end_.send(std::string_view(data.c_str(), data.size())); }

  nb::object receive(int timeout_ms) {
    std::optional<std::string> bytes = end_.receive(timeout_ms);
    if (!bytes) return nb::none();
    return decode_message(*bytes, [](protocol::MessageType type, const std::string& b) -> nb::object {
      switch (type) {
        case protocol::MessageType::kHello:
          return decoded(protocol::decode_hello(b));
        case protocol::MessageType::kTestResult:
          return decoded(protocol::decode_test_result(b));
        default:
          return nb::object();
      }
    });
  }

  void watch(int fd) { end_.get().watch(fd); }
  void close() { end_.close(); }
  bool closed() const { return end_.closed(); }
  uint32_t ring_bytes() { return end_.get().ring_bytes(); }

 private:
  explicit OrchestratorChannel(std::unique_ptr<Channel> ch) : end_(std::move(ch)) {}
  End end_;
};

void close_channel_fds(std::string_view text) {
  protocol::ChannelFds fds = value_or_raise(protocol::parse_fds(text));
  protocol::close_fds(fds);
}

}  // namespace

void bind_protocol(nb::module_& m) {
  nb::exception<ChannelClosed>(m, "ChannelClosed", PyExc_ConnectionError);
  nb::exception<ProtocolError>(m, "ProtocolError", PyExc_ValueError);

  m.attr("PROTOCOL_VERSION") = protocol::kVersion;
  m.attr("DEFAULT_MAX_MESSAGE") = protocol::kDefaultMaxMessage;
  m.attr("DEFAULT_RING_BYTES") = protocol::ChannelOptions{}.ring_bytes;

  nb::class_<protocol::TestMessage>(m, "TestMessage")
      .def_ro("sequence", &protocol::TestMessage::sequence)
      .def_ro("timeout_ms", &protocol::TestMessage::timeout_ms)
      .def_ro("worker_id", &protocol::TestMessage::worker_id)
      .def_ro("attempt", &protocol::TestMessage::attempt)
      .def_ro("last_of_module", &protocol::TestMessage::last_of_module)
      .def_ro("test", &protocol::TestMessage::test);

  nb::class_<protocol::ShutdownMessage>(m, "ShutdownMessage")
      .def_ro("grace_ms", &protocol::ShutdownMessage::grace_ms)
      .def_ro("interrupted", &protocol::ShutdownMessage::interrupted);

  nb::class_<protocol::HelloMessage>(m, "HelloMessage")
      .def_ro("pid", &protocol::HelloMessage::pid)
      .def_ro("worker_id", &protocol::HelloMessage::worker_id)
      .def_ro("python_version", &protocol::HelloMessage::python_version);

  nb::class_<protocol::TestResultMessage>(m, "TestResultMessage")
      .def_ro("sequence", &protocol::TestResultMessage::sequence)
      .def_ro("worker_id", &protocol::TestResultMessage::worker_id)
      .def_ro("output_truncated", &protocol::TestResultMessage::output_truncated)
      .def_ro("more_results", &protocol::TestResultMessage::more_results)
      .def_ro("result", &protocol::TestResultMessage::result);

  nb::class_<OtherMessage>(m, "OtherMessage").def_ro("type", &OtherMessage::type);

  nb::class_<WorkerChannel>(m, "WorkerChannel")
      .def_static("attach", &WorkerChannel::attach, nb::arg("fds"),
                  nb::arg("max_message") = protocol::kDefaultMaxMessage,
                  "The worker's end, from the descriptors of DXPY_CHANNEL_FDS (\"3,4,5\"); takes them over.")
      .def("send_hello", &WorkerChannel::send_hello, nb::arg("pid"), nb::arg("worker_id"), nb::arg("version"))
      .def("send_result", &WorkerChannel::send_result, nb::arg("sequence"), nb::arg("worker_id"),
           nb::arg("result"), nb::arg("output_truncated") = false, nb::arg("more_results") = false)
      .def("receive", &WorkerChannel::receive, nb::arg("timeout_ms") = -1,
           "TestMessage, ShutdownMessage, OtherMessage, or None when nothing came within timeout_ms "
           "(-1: wait forever). ChannelClosed once the orchestrator is gone.")
      .def("close", &WorkerChannel::close)
      .def_prop_ro("closed", &WorkerChannel::closed);

  nb::class_<OrchestratorChannel>(m, "OrchestratorChannel")
      .def_static("create", &OrchestratorChannel::create, nb::arg("ring_bytes") = protocol::ChannelOptions{}.ring_bytes,
                  nb::arg("max_message") = protocol::kDefaultMaxMessage,
                  "(channel, worker_fds): the orchestrator's end and the worker's descriptors "
                  "(\"memory,inbound,outbound\", close-on-exec, the caller's to close).")
      .def("send_test", &OrchestratorChannel::send_test, nb::arg("sequence"), nb::arg("test"),
           nb::arg("timeout_ms") = 0, nb::arg("worker_id") = 0, nb::arg("last_of_module") = false,
           nb::arg("attempt") = 0)
      .def("send_shutdown", &OrchestratorChannel::send_shutdown, nb::arg("grace_ms") = 0,
           nb::arg("interrupted") = false)
      .def("send_raw", &OrchestratorChannel::send_raw, nb::arg("data"))
      .def("receive", &OrchestratorChannel::receive, nb::arg("timeout_ms") = -1,
           "HelloMessage, TestResultMessage, OtherMessage, or None on timeout.")
      .def("watch", &OrchestratorChannel::watch, nb::arg("fd"),
           "Also treat fd (a pidfd of the worker) becoming readable as the worker being gone; not owned.")
      .def("close", &OrchestratorChannel::close)
      .def_prop_ro("closed", &OrchestratorChannel::closed)
      .def_prop_ro("ring_bytes", &OrchestratorChannel::ring_bytes);

  m.def("close_channel_fds", &close_channel_fds, nb::arg("fds"), "Closes the descriptors of a \"a,b,c\" string.");
}

}  // namespace dxpy::bindings
