#include "dxpy/cli/cli.h"

int main(int argc, char** argv) { return dxpy::cli::run(argc, argv); }
