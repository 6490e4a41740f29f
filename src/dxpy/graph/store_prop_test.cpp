// Property 10 (graph round-trip): a saved graph loads equal; truncated, flipped or random
// bytes are an error, and resealed mutations (which the checksum would otherwise hide)
// never crash the decoder or yield a graph that breaks its own invariants.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "dxpy/graph/store.h"
#include "dxpy/graph/test_support.h"

namespace dxpy::graph {
namespace {

namespace gen = rc::gen;
using format::Header;
using testing::reseal;

GraphOptions options() {
  GraphOptions o;
  o.rootdir = "/repo";
  return o;
}

// Names from a small vocabulary (so that imports resolve and paths nest) or arbitrary
// text (so that the codec meets every byte).
rc::Gen<std::string> gen_name() {
  return gen::oneOf(gen::element<std::string>("a", "b", "pkg", "tests", "__init__", "conftest", "test_x", "m"),
                    gen::nonEmpty(gen::string<std::string>()));
}

rc::Gen<ImportRef> gen_import() {
  return gen::build<ImportRef>(
      gen::set(&ImportRef::module, gen::oneOf(gen::element<std::string>("", "a", "a.b", "pkg.m", "os.path"),
                                              gen::string<std::string>())),
      gen::set(&ImportRef::names, gen::container<std::vector<std::string>>(gen::resize(3, gen_name()))),
      gen::set(&ImportRef::level, gen::inRange<uint32_t>(0, 4)), gen::set(&ImportRef::line),
      gen::set(&ImportRef::nested));
}

// A graph as set_imports builds it: valid graph paths, arbitrary stamps and imports.
ImportGraph gen_graph() {
  ImportGraph g(options());
  const int files = *gen::inRange(0, 30);
  for (int f = 0; f < files; ++f) {
    std::string path;
    const int depth = *gen::inRange(0, 3);
    for (int d = 0; d < depth; ++d) {
      std::string part = *gen_name();
      if (part == "." || part == ".." || part.find('/') != std::string::npos || part.find('\0') != std::string::npos)
        part = "d";
      path += part + "/";
    }
    std::string stem = *gen_name();
    if (stem.find('/') != std::string::npos || stem.find('\0') != std::string::npos) stem = "f";
    path += stem + ".py";
    FileStamp st{*gen::arbitrary<uint64_t>(), *gen::arbitrary<int64_t>()};
    g.set_imports(path, *gen::resize(6, gen::container<std::vector<ImportRef>>(gen_import())), st);
  }
  g.resolve();
  return g;
}

// What any graph the decoder returns must satisfy, touched everywhere (ASan checks reads).
void check_invariants(const ImportGraph& g) {
  const auto paths = g.paths();
  RC_ASSERT(paths.size() == g.size());
  std::set<std::string> all(paths.begin(), paths.end());
  for (const auto& p : paths) {
    for (const auto& d : g.dependencies(p)) {
      RC_ASSERT(all.count(d.path) == 1u);
      RC_ASSERT(d.path != p);
    }
    for (const auto& r : g.dependents(p)) RC_ASSERT(all.count(r) == 1u);
    (void)g.unresolved(p);
  }
  (void)g.external_modules();
  (void)g.affected_by(paths);
  (void)g.describe();
}

RC_GTEST_PROP(GraphStoreProp, P10_SaveThenLoadGivesTheSameGraph, ()) {
  const ImportGraph g = gen_graph();
  const std::string bytes = encode_graph(g);
  auto loaded = decode_graph(bytes, options());
  RC_ASSERT(loaded.has_value());
  RC_ASSERT(*loaded == g);
  RC_ASSERT(encode_graph(*loaded) == bytes);
  check_invariants(*loaded);
}

RC_GTEST_PROP(GraphStoreProp, TruncationIsAnError, ()) {
  const std::string bytes = encode_graph(gen_graph());
  const auto cut = *gen::inRange<size_t>(0, bytes.size());
  auto loaded = decode_graph(bytes.substr(0, cut), options());
  RC_ASSERT(!loaded.has_value());
  RC_ASSERT(loaded.error().code == Errc::kTruncated);
}

RC_GTEST_PROP(GraphStoreProp, AnyFlippedByteIsAnError, ()) {
  std::string bytes = encode_graph(gen_graph());
  const auto at = *gen::inRange<size_t>(0, bytes.size());
  const auto mask = *gen::inRange<int>(1, 256);
  bytes[at] = static_cast<char>(bytes[at] ^ mask);
  RC_ASSERT(!decode_graph(bytes, options()).has_value());
}

RC_GTEST_PROP(GraphStoreProp, RandomBytesAreAnError, (const std::string& junk, bool plausible_header)) {
  RC_PRE(!(plausible_header && junk.empty()));  // that is the empty graph's file
  std::string bytes = junk;
  if (plausible_header) {
    // Past the magic and version checks, so the later ones are reached.
    std::string good = encode_graph(ImportGraph(options()));
    bytes = good.substr(0, sizeof(Header)) + junk;
    testing::put<uint64_t>(bytes, offsetof(Header, body_size), junk.size());
  }
  RC_ASSERT(!decode_graph(bytes, options()).has_value());
}

RC_GTEST_PROP(GraphStoreProp, ResealedMutationsStayInBounds, ()) {
  std::string bytes = encode_graph(gen_graph());
  const int edits = *gen::inRange(1, 4);
  for (int e = 0; e < edits && bytes.size() > sizeof(Header); ++e) {
    const auto at = *gen::inRange<size_t>(offsetof(Header, file_count), bytes.size());
    if (at >= offsetof(Header, checksum) && at < sizeof(Header)) continue;  // reseal rewrites it
    if (at >= offsetof(Header, root_hash) && at < offsetof(Header, body_size)) continue;
    bytes[at] = static_cast<char>(*gen::arbitrary<uint8_t>());
  }
  if (*gen::inRange(0, 3) == 0) {
    // Cut or grow the body, keeping the header's size right.
    const auto body = *gen::inRange<size_t>(0, bytes.size() - sizeof(Header) + 8);
    bytes.resize(sizeof(Header) + body, 'x');
    testing::put<uint64_t>(bytes, offsetof(Header, body_size), body);
  }
  reseal(bytes);
  auto loaded = decode_graph(bytes, options());
  if (loaded) check_invariants(*loaded);
}

}  // namespace
}  // namespace dxpy::graph
