#pragma once

// vigil-admin's commands register themselves here, one file per command (cmd_<name>.cc), so that
// commands can be added without touching a shared dispatch table:
//
//   static vigil::admin::CommandRegistration reg{"inspect", "inspect DIR  blocks, series, ...",
//                                                 &Inspect};
//
// A command gets argv with argv[0] == its name and returns the process exit code (0 ok, 1 failure
// or corruption found, 2 usage error).
#include <string_view>
#include <vector>

namespace vigil::admin {

using CommandFn = int (*)(int argc, char** argv);

struct Command {
  std::string_view name;
  std::string_view usage;  // one or more lines, shown by `vigil-admin --help`
  CommandFn run;
};

// All registered commands, sorted by name.
const std::vector<Command>& Commands();

struct CommandRegistration {
  CommandRegistration(std::string_view name, std::string_view usage, CommandFn run);
};

}  // namespace vigil::admin
