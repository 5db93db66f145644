#include "tools/vigil-admin/command.h"

#include <algorithm>

namespace vigil::admin {
namespace {
std::vector<Command>& Registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace

const std::vector<Command>& Commands() {
  std::sort(Registry().begin(), Registry().end(),
            [](const Command& a, const Command& b) { return a.name < b.name; });
  return Registry();
}

CommandRegistration::CommandRegistration(std::string_view name, std::string_view usage,
                                         CommandFn run) {
  Registry().push_back(Command{name, usage, run});
}

}  // namespace vigil::admin
