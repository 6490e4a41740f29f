#pragma once

namespace dxpy::cli {
/// The `dx-py` command line. Returns pytest's exit codes; never throws.
int run(int argc, char** argv);
}  // namespace dxpy::cli
