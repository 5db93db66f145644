#pragma once

// The interactive line editor: libedit with emacs bindings, a history file kept across sessions,
// statements over several lines and Tab completion through a callback.
//
// SIGINT: the shell installs its own handler (see InstallInterruptHandler); while a line is
// typed, Ctrl-C drops the line and returns kInterrupted; while a query runs, it cancels the query
// (HttpClient::CancelInFlight).
//
// Thread safety: one LineEditor per process (libedit calls back through a static pointer).

#include <cstdio>
#include <functional>
#include <string>
#include <string_view>

#include "tools/vigil/completion.h"

struct editline;
struct history;

namespace vigil::shell {

class LineEditor {
 public:
  enum class Read { kStatement, kEof, kInterrupted };
  using Completer = std::function<Completion(std::string_view before_cursor)>;

  // `history_path` may be empty (no history file).
  LineEditor(const char* program, std::FILE* in, std::FILE* out, std::FILE* err,
             std::string history_path);
  ~LineEditor();
  LineEditor(const LineEditor&) = delete;
  LineEditor& operator=(const LineEditor&) = delete;

  // Reads one statement: lines are joined with '\n' while NeedsMoreInput() says so; a trailing
  // '\' is removed. A line starting with '\' is a meta command and always ends the statement.
  Read ReadStatement(std::string* statement);

  // Adds a statement to the history (newlines become spaces) and appends it to the file.
  void AddHistory(std::string_view statement);

  void set_completer(Completer c) { completer_ = std::move(c); }
  void set_prompt(std::string prompt) { prompt_ = std::move(prompt); }

  // The SIGINT handler: cancels a request in flight and makes the editor drop its line.
  static void InstallInterruptHandler();

 private:
  static char* PromptFn(editline* el);
  static unsigned char CompleteFn(editline* el, int ch);
  static int GetCharFn(editline* el, wchar_t* wc);
  unsigned char DoComplete();

  editline* el_ = nullptr;
  history* hist_ = nullptr;
  std::FILE* out_;
  std::string history_path_;
  std::string prompt_ = "vigil> ";
  std::string continuation_prompt_ = "  ...> ";
  const std::string* current_prompt_ = &prompt_;
  std::string pending_;  // earlier lines of the statement being typed
  Completer completer_;
  int in_fd_;
};

}  // namespace vigil::shell
