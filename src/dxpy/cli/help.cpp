#include "dxpy/cli/help.h"

#include <algorithm>
#include <memory>
#include <sstream>
#include <string_view>

namespace dxpy::cli {

namespace {

constexpr const char* kGeneral = "general";
constexpr const char* kReporting = "Reporting";
constexpr const char* kCollection = "collection";
constexpr const char* kSession = "test session debugging and configuration";
constexpr const char* kDistributed = "distributed and subprocess testing";  // pytest-xdist's
constexpr const char* kTimeout = "Interrupt test run and dump stacks to stderr";  // pytest-timeout's
constexpr const char* kDxPy = "dx-py";  // flags pytest does not have

// pytest's groups in the order its --help shows them.
constexpr const char* kGroupOrder[] = {kGeneral, kReporting, kCollection, kSession, kDistributed, kTimeout, kDxPy};

struct Placement {
  std::string_view flag;     // the option's first long name, or its short one
  const char* group;
  const char* metavar;       // the value's name in pytest's help; nullptr for flags
};

// Where pytest (and xdist, pytest-timeout) list each flag, and what they call its value.
// Flags of dx-py alone default to the dx-py group; list them here only for a metavar.
constexpr Placement kPlacements[] = {
    {"-k", kGeneral, "EXPRESSION"},
    {"-m", kGeneral, "MARKEXPR"},
    {"--exitfirst", kGeneral, nullptr},
    {"--maxfail", kGeneral, "num"},
    {"--strict-markers", kGeneral, nullptr},
    {"-s", kGeneral, nullptr},
    {"--last-failed", kGeneral, nullptr},
    {"--failed-first", kGeneral, nullptr},
    {"--last-failed-no-failures", kGeneral, "{all,none}"},
    {"--durations", kReporting, "N"},
    {"--verbose", kReporting, nullptr},
    {"--quiet", kReporting, nullptr},
    {"-r", kReporting, "chars"},
    {"--tb", kReporting, "style"},
    {"--color", kReporting, "color"},
    {"--junit-xml", kReporting, "path"},
    {"--junit-prefix", kReporting, "str"},
    {"--collect-only", kCollection, nullptr},
    {"--continue-on-collection-errors", kCollection, nullptr},
    {"--config-file", kSession, "FILE"},
    {"--rootdir", kSession, "ROOTDIR"},
    {"--help", kSession, nullptr},
    {"-p", kSession, "name"},
    {"--numprocesses", kDistributed, "numprocesses"},
    {"--timeout", kTimeout, "TIMEOUT"},
    {"--python", kDxPy, "PATH"},
    {"--affected-by", kDxPy, "FILE"},
    {"--changed", kDxPy, "REF"},
    {"--shard", kDxPy, "K/N"},
    {"--retries", kDxPy, "N"},
};

const Placement* placement_of(const CLI::Option* opt) {
  std::vector<std::string> names = opt->get_lnames();
  for (auto& n : names) n = "--" + n;
  for (const auto& s : opt->get_snames()) names.push_back("-" + s);
  for (const auto& p : kPlacements)
    if (std::find(names.begin(), names.end(), p.flag) != names.end()) return &p;
  return nullptr;
}

// Words of `text` in lines of at most `width` columns.
std::vector<std::string> wrap(const std::string& text, size_t width) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  std::string word, cur;
  while (in >> word) {
    if (!cur.empty() && cur.size() + 1 + word.size() > width) {
      lines.push_back(cur);
      cur.clear();
    }
    cur += (cur.empty() ? "" : " ") + word;
  }
  if (!cur.empty()) lines.push_back(cur);
  return lines;
}

/// argparse's layout: names at column 2, help at column 24, wrapped to 80 columns.
class PytestFormatter final : public CLI::Formatter {
 public:
  std::string make_usage(const CLI::App*, std::string) const override { return std::string(kUsageLine) + "\n"; }
  std::string make_help(const CLI::App* app, std::string, CLI::AppFormatMode) const override {
    return make_usage(app, "") + make_positionals(app) + groups(app) + make_footer(app);
  }
  std::string make_positionals(const CLI::App* app) const override {
    std::string out = "\npositional arguments:\n";
    for (const CLI::Option* opt : app->get_options([](const CLI::Option* o) { return o->get_positional(); }))
      out += entry(opt->get_name(true, false), opt->get_description());
    return out;
  }
  std::string groups(const CLI::App* app) const {
    std::vector<std::string> groups(std::begin(kGroupOrder), std::end(kGroupOrder));
    for (const auto& g : app->get_groups())
      if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
    std::string out;
    for (const auto& g : groups) {
      auto opts = app->get_options([&](const CLI::Option* o) { return o->get_group() == g && o->nonpositional(); });
      if (g.empty() || opts.empty()) continue;
      out += "\n" + g + ":\n";
      for (const CLI::Option* o : opts) out += make_option(o, false);
    }
    return out;
  }
  std::string make_option(const CLI::Option* opt, bool) const override {
    const Placement* p = placement_of(opt);
    std::string metavar;
    if (opt->get_expected_max() != 0) {  // not a flag
      if (p && p->metavar) {
        metavar = p->metavar;
      } else {
        metavar = opt->get_lnames().empty() ? opt->get_snames().front() : opt->get_lnames().front();
        std::transform(metavar.begin(), metavar.end(), metavar.begin(),
                       [](char c) { return c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c))); });
      }
      if (opt->get_expected_min() == 0) metavar = "[" + metavar + "]";
      else if (opt->get_expected_max() > 1) metavar += " [" + metavar + " ...]";
    }
    std::string names;
    for (const auto& s : opt->get_snames()) names += (names.empty() ? "-" : ", -") + s + (metavar.empty() ? "" : " " + metavar);
    for (const auto& l : opt->get_lnames())
      names += (names.empty() ? "--" : ", --") + l + (metavar.empty() ? "" : "=" + metavar);
    return entry(names, opt->get_description());
  }
  std::string make_footer(const CLI::App* app) const override {
    std::string out;
    for (const auto& l : wrap(app->get_footer(), 78)) out += l + "\n";
    return out.empty() ? out : "\n" + out;
  }

 private:
  static std::string entry(const std::string& names, const std::string& help) {
    constexpr size_t kHelpColumn = 24, kWidth = 80;
    std::string out = "  " + names;
    std::vector<std::string> lines = wrap(help, kWidth - kHelpColumn);
    if (lines.empty()) return out + "\n";
    if (out.size() + 2 <= kHelpColumn) {
      out += std::string(kHelpColumn - out.size(), ' ') + lines[0] + "\n";
    } else {
      out += "\n" + std::string(kHelpColumn, ' ') + lines[0] + "\n";
    }
    for (size_t i = 1; i < lines.size(); ++i) out += std::string(kHelpColumn, ' ') + lines[i] + "\n";
    return out;
  }
};

}  // namespace

void apply_pytest_help(CLI::App& app) {
  for (CLI::Option* opt : app.get_options([](CLI::Option*) { return true; })) {
    if (opt->get_positional() || opt->get_group() != "Options") continue;
    const Placement* p = placement_of(opt);
    opt->group(p ? p->group : kDxPy);
  }
  app.formatter(std::make_shared<PytestFormatter>());
}

std::vector<std::string> flag_names(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::Option* opt : app.get_options()) {
    for (const auto& l : opt->get_lnames()) out.push_back("--" + l);
    for (const auto& s : opt->get_snames()) out.push_back("-" + s);
  }
  return out;
}

}  // namespace dxpy::cli
