#include "tools/vigil/cli.h"

#include <sys/ioctl.h>
#include <unistd.h>

#include <clocale>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>

#include "tools/vigil/line_editor.h"
#include "tools/vigil/statement.h"
#include "tools/vigil/time_format.h"

namespace vigil::shell {

std::string_view UsageText() {
  return R"(usage: vigil [options]                  interactive shell (when stdin is a terminal)
       vigil [options] -e QUERY [-e ...]  run queries and exit
       vigil [options] -f FILE | < FILE   run the statements of a file (- is stdin)

connection:
  --url URL            server address (default $VIGIL_URL or http://127.0.0.1:9201);
                       https:// for TLS
  --token TOKEN        bearer token (default $VIGIL_TOKEN)
  --token-file FILE    read the bearer token from FILE
  --ca-file FILE       CA certificates (PEM) to verify the server with
  --ca-path DIR        directory of hashed CA certificates
  --insecure           TLS without certificate verification
output:
  --format F           table (default), csv, json or chart
  --start T --end T [--step S]
                       run queries as range queries (times: now, -1h, RFC 3339, Unix seconds)
  --time T             evaluation time of instant queries
  --width N            output width (default: the terminal's, else $COLUMNS, else 100)
  --color, --no-color  ANSI colours (default: on for terminals unless $NO_COLOR is set)
  -q, --quiet          no timing and counts after results
  --history FILE       history file (default $VIGIL_HISTORY or ~/.vigil_history)
  -h, --help           this text
  --version            print the version
In the shell, \help lists the meta commands.
)";
}

Result<CliOptions> ParseCommandLine(int argc, const char* const* argv,
                                    const char* (*getenv_fn)(const char*)) {
  CliOptions o;
  std::string token_file, start, end, step;
  bool token_flag = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    std::string value;
    bool has_inline = false;
    if (a.starts_with("--") && a.find('=') != std::string_view::npos) {
      value = std::string(a.substr(a.find('=') + 1));
      a = a.substr(0, a.find('='));
      has_inline = true;
    }
    auto need = [&](std::string_view name) -> Result<std::string> {
      if (has_inline) return value;
      if (i + 1 >= argc) {
        return Status::InvalidArgument(std::string(name) + " needs a value (see vigil --help)");
      }
      return std::string(argv[++i]);
    };
    if (a == "-h" || a == "--help") {
      o.help = true;
    } else if (a == "--version") {
      o.version = true;
    } else if (a == "--url") {
      VIGIL_ASSIGN_OR_RETURN(o.url, need(a));
    } else if (a == "--token") {
      VIGIL_ASSIGN_OR_RETURN(o.http.bearer_token, need(a));
      token_flag = true;
    } else if (a == "--token-file") {
      VIGIL_ASSIGN_OR_RETURN(token_file, need(a));
    } else if (a == "--ca-file") {
      VIGIL_ASSIGN_OR_RETURN(o.http.ca_file, need(a));
    } else if (a == "--ca-path") {
      VIGIL_ASSIGN_OR_RETURN(o.http.ca_path, need(a));
    } else if (a == "--insecure" || a == "-k") {
      o.http.insecure = true;
    } else if (a == "-e" || a == "--execute") {
      VIGIL_ASSIGN_OR_RETURN(std::string q, need(a));
      o.execute.push_back(std::move(q));
    } else if (a == "-f" || a == "--file") {
      VIGIL_ASSIGN_OR_RETURN(std::string f, need(a));
      o.files.push_back(std::move(f));
    } else if (a == "--format") {
      VIGIL_ASSIGN_OR_RETURN(std::string f, need(a));
      if (!ParseFormat(f, &o.shell.format)) {
        return Status::InvalidArgument("--format: unknown format '" + f +
                                       "' (table, csv, json or chart)");
      }
    } else if (a == "--start") {
      VIGIL_ASSIGN_OR_RETURN(start, need(a));
    } else if (a == "--end") {
      VIGIL_ASSIGN_OR_RETURN(end, need(a));
    } else if (a == "--step") {
      VIGIL_ASSIGN_OR_RETURN(step, need(a));
    } else if (a == "--time") {
      VIGIL_ASSIGN_OR_RETURN(o.shell.time, need(a));
      VIGIL_RETURN_IF_ERROR(ParseTime(o.shell.time, 0).status());
    } else if (a == "--width") {
      VIGIL_ASSIGN_OR_RETURN(std::string w, need(a));
      int n = std::atoi(w.c_str());
      if (n < 20 || n > 10000) return Status::InvalidArgument("--width: expected 20..10000");
      o.width = n;
    } else if (a == "--color") {
      o.color = true;
    } else if (a == "--no-color") {
      o.color = false;
    } else if (a == "-q" || a == "--quiet") {
      o.shell.footer = false;
    } else if (a == "--history") {
      VIGIL_ASSIGN_OR_RETURN(o.history_path, need(a));
    } else {
      return Status::InvalidArgument("unknown option '" + std::string(argv[i]) +
                                     "' (see vigil --help)");
    }
  }
  if (o.url.empty()) {
    const char* env = getenv_fn("VIGIL_URL");
    o.url = env != nullptr && *env != '\0' ? env : kDefaultUrl;
  }
  if (!token_flag && token_file.empty()) {
    if (const char* env = getenv_fn("VIGIL_TOKEN")) o.http.bearer_token = env;
  }
  if (!token_file.empty()) {
    if (token_flag) return Status::InvalidArgument("--token and --token-file exclude each other");
    std::ifstream in(token_file);
    if (!in) {
      return Status::InvalidArgument("--token-file: cannot read " + token_file + ": " +
                                     std::strerror(errno));
    }
    std::getline(in, o.http.bearer_token);
    while (!o.http.bearer_token.empty() &&
           (o.http.bearer_token.back() == '\r' || o.http.bearer_token.back() == ' ')) {
      o.http.bearer_token.pop_back();
    }
    if (o.http.bearer_token.empty()) {
      return Status::InvalidArgument("--token-file: " + token_file + " holds no token");
    }
  }
  if (!start.empty() || !end.empty() || !step.empty()) {
    if (start.empty() || end.empty()) {
      return Status::InvalidArgument("a range query needs both --start and --end");
    }
    VIGIL_RETURN_IF_ERROR(ParseTime(start, 0).status());
    VIGIL_RETURN_IF_ERROR(ParseTime(end, 0).status());
    RangeSpec r{start, end, 0};
    if (!step.empty()) {
      VIGIL_ASSIGN_OR_RETURN(r.step_ms, ParseStep(step));
    }
    o.shell.range = r;
  }
  if (o.history_path.empty()) {
    if (const char* env = getenv_fn("VIGIL_HISTORY"); env != nullptr && *env != '\0') {
      o.history_path = env;
    } else if (const char* home = getenv_fn("HOME"); home != nullptr && *home != '\0') {
      o.history_path = std::string(home) + "/.vigil_history";
    }
  }
  return o;
}

namespace {

int TerminalWidth(int fd) {
  struct winsize ws;
  if (ioctl(fd, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
  return 0;
}

int OutputWidth(const CliOptions& o) {
  if (o.width) return *o.width;
  if (int w = TerminalWidth(STDOUT_FILENO); w > 0) return w;
  if (const char* c = std::getenv("COLUMNS")) {
    int n = std::atoi(c);
    if (n >= 20) return n;
  }
  return 100;
}

// Runs the statements of a script: statements span lines while NeedsMoreInput() says so; blank
// lines and lines starting with '#' outside a statement are skipped.
bool RunScript(Shell* shell, std::istream& in, const std::string& name) {
  bool ok = true;
  std::string pending, line;
  int line_no = 0, start_line = 0;
  auto run = [&](const std::string& stmt) {
    if (!shell->Execute(stmt).ok()) {
      ok = false;
      std::fprintf(stderr, "  (statement at %s:%d)\n", name.c_str(), start_line);
    }
  };
  while (!shell->quit_requested() && std::getline(in, line)) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (pending.empty()) {
      std::string_view t = line;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      if (t.empty() || t.starts_with("#")) continue;
      start_line = line_no;
      if (t.starts_with("\\")) {
        run(std::string(t));
        continue;
      }
    }
    std::string joined = pending.empty() ? line : pending + "\n" + line;
    if (NeedsMoreInput(joined)) {
      std::string stripped(StripContinuation(line));
      pending = pending.empty() ? stripped : pending + "\n" + stripped;
      continue;
    }
    pending.clear();
    run(joined);
  }
  if (!pending.empty()) {
    std::fprintf(stderr,
                 "error: %s: the statement from line %d is not finished at the end of "
                 "the input (an open bracket or quote)\n",
                 name.c_str(), start_line);
    ok = false;
  }
  return ok;
}

int Interactive(Shell* shell, CliOptions& o) {
  LineEditor editor("vigil", stdin, stdout, stderr, o.history_path);
  LineEditor::InstallInterruptHandler();
  editor.set_completer([shell](std::string_view before) {
    return Complete(AnalyzeCompletion(before), shell->completion_source());
  });
  std::printf(
      "vigil %s · %s · \\help for help, Ctrl-D to leave\n", VIGIL_VERSION,
      shell->options().render.color ? ("\033[1m" + o.url + "\033[0m").c_str() : o.url.c_str());
  std::fflush(stdout);
  int failures = 0;
  for (;;) {
    std::string stmt;
    LineEditor::Read r = editor.ReadStatement(&stmt);
    if (r == LineEditor::Read::kEof) break;
    if (r == LineEditor::Read::kInterrupted) continue;
    editor.AddHistory(stmt);
    shell->options().render.width = OutputWidth(o);
    HttpClient::ResetCancel();
    if (!shell->Execute(stmt).ok()) ++failures;
    HttpClient::ResetCancel();
    if (shell->quit_requested()) break;
  }
  return 0;
}

}  // namespace

int RunVigil(int argc, char** argv) {
  std::setlocale(LC_CTYPE, "");
  auto parsed =
      ParseCommandLine(argc, argv, [](const char* n) -> const char* { return std::getenv(n); });
  if (!parsed.ok()) {
    std::fprintf(stderr, "vigil: %s\n", parsed.status().message().c_str());
    return 2;
  }
  CliOptions& o = *parsed;
  if (o.help) {
    std::fwrite(UsageText().data(), 1, UsageText().size(), stdout);
    return 0;
  }
  if (o.version) {
    std::printf("vigil %s\n", VIGIL_VERSION);
    return 0;
  }
  auto url = Url::Parse(o.url);
  if (!url.ok()) {
    std::fprintf(stderr, "vigil: %s\n", url.status().message().c_str());
    return 2;
  }
  o.url = url->ToString();
  bool script = !o.execute.empty() || !o.files.empty();
  bool interactive = !script && isatty(STDIN_FILENO);
  o.shell.interactive = interactive;
  o.shell.render.width = OutputWidth(o);
  bool tty_out = isatty(STDOUT_FILENO);
  const char* term = std::getenv("TERM");
  o.shell.render.color = o.color.value_or(tty_out && std::getenv("NO_COLOR") == nullptr &&
                                          !(term != nullptr && std::strcmp(term, "dumb") == 0));
  if (interactive) {
    // Leave room for the y axis and legend on a terminal.
    int rows = 0;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0) rows = ws.ws_row;
    if (rows > 0) o.shell.render.chart_height = std::clamp(rows - 10, 6, 24);
  }
  o.http.user_agent = std::string("vigil/") + VIGIL_VERSION;
  ApiClient api(*url, o.http);
  Shell shell(&api, o.shell, stdout, stderr);
  if (interactive) return Interactive(&shell, o);

  bool ok = true;
  for (const auto& q : o.execute) {
    if (shell.quit_requested()) break;
    if (!shell.Execute(q).ok()) ok = false;
  }
  for (const auto& f : o.files) {
    if (f == "-") {
      ok = RunScript(&shell, std::cin, "stdin") && ok;
      continue;
    }
    std::ifstream in(f);
    if (!in) {
      std::fprintf(stderr, "vigil: cannot read %s: %s\n", f.c_str(), std::strerror(errno));
      ok = false;
      continue;
    }
    ok = RunScript(&shell, in, f) && ok;
  }
  if (!script) ok = RunScript(&shell, std::cin, "stdin");
  return ok ? 0 : 1;
}

}  // namespace vigil::shell
