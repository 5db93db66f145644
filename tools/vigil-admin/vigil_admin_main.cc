// vigil-admin: offline tools for Vigil's data directories and formats. Each command lives in its
// own cmd_<name>.cc and registers itself (see command.h); `vigil-admin --help` lists them.
#include <cstdio>
#include <cstring>
#include <string>

#include "tools/vigil-admin/command.h"

int main(int argc, char** argv) {
  const auto& commands = vigil::admin::Commands();
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0 || std::strcmp(argv[1], "help") == 0) {
    std::FILE* out = argc < 2 ? stderr : stdout;
    std::fprintf(out, "usage: vigil-admin <command> [arguments]\n\ncommands:\n");
    for (const auto& c : commands) std::fprintf(out, "  %.*s\n", int(c.usage.size()), c.usage.data());
    return argc < 2 ? 2 : 0;
  }
  for (const auto& c : commands) {
    if (c.name == argv[1]) return c.run(argc - 1, argv + 1);
  }
  std::fprintf(stderr, "vigil-admin: unknown command '%s' (see vigil-admin --help)\n", argv[1]);
  return 2;
}
