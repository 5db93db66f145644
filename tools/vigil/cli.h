#pragma once

// `vigil`'s command line: flags, the interactive loop and the script modes (-e, -f, stdin).

#include <optional>
#include <string>
#include <vector>

#include "storage/base/status.h"
#include "tools/vigil/http_client.h"
#include "tools/vigil/shell.h"

namespace vigil::shell {

// The default server: vigild's default HTTP address (--http.listen, server/README.md).
inline constexpr const char* kDefaultUrl = "http://127.0.0.1:9201";

struct CliOptions {
  std::string url;  // --url, else $VIGIL_URL, else kDefaultUrl
  HttpOptions http;
  std::vector<std::string> execute;  // -e, in order
  std::vector<std::string> files;    // -f ("-" is stdin)
  ShellOptions shell;
  std::optional<int> width;
  std::optional<bool> color;
  std::string history_path;  // --history, else $VIGIL_HISTORY, else ~/.vigil_history
  bool help = false;
  bool version = false;
};

// Parses argv (argv[0] is the program). `getenv` is a parameter so tests control the environment.
Result<CliOptions> ParseCommandLine(int argc, const char* const* argv,
                                    const char* (*getenv_fn)(const char*));

std::string_view UsageText();

// Runs vigil; returns the process exit code: 0 success, 1 a statement failed, 2 usage error.
int RunVigil(int argc, char** argv);

}  // namespace vigil::shell
