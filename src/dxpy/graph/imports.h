#pragma once
/// The imports of one Python source file, for the import graph: a single pass that lexes
/// only as far as finding them needs (strings of every kind, f-strings with nested fields,
/// comments, brackets, line continuations, where statements start) and reads imports in
/// any block: module body, functions, classes, `try/except ImportError`, `if TYPE_CHECKING`.
///
///   import a.b.c, d as e              -> {"a.b.c", {}, 0}, {"d", {}, 0}
///   from ..a.b import c, d as e       -> {"a.b", {"c", "d"}, 2}
///   from . import x                   -> {"", {"x"}, 1}
///   from m import *                   -> {"m", {"*"}, 0}
///   importlib.import_module("a.b")    -> {"a.b", {}, 0}
///   import_module(".c", __package__)  -> {"c", {}, 1}
///   __import__("a")                   -> {"a", {}, 0}
///
/// A call counts only when its first argument is one plain string literal holding a dotted
/// name; a computed name cannot be known statically. `nested` is set for imports that are
/// not directly in the module body (indented, or after a compound statement's ':'); `line`
/// is the line of the `import`/`from` keyword or of the call. Aliases are not kept: the
/// graph does not need them.
///
/// It never fails: on code that would not compile it records what it can read, so an edit
/// in progress elsewhere in a file does not drop its imports from the graph. (Discovery's
/// scanner, which must report errors as CPython does, gives an empty outline then; it also
/// sits on the same level of the layering as graph, which may not link it.)

#include <string_view>
#include <vector>

#include "dxpy/core/types.h"

namespace dxpy::graph {

/// Appends the imports of `source` to `out`, in source order.
void scan_imports(std::string_view source, std::vector<ImportRef>& out);
std::vector<ImportRef> scan_imports(std::string_view source);

}  // namespace dxpy::graph
