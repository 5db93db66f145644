#include "tools/vigil/line_editor.h"

#include <errno.h>
#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <cwchar>

#include "tools/vigil/http_client.h"
#include "tools/vigil/statement.h"

namespace vigil::shell {
namespace {

std::atomic<bool> g_interrupted{false};
LineEditor* g_editor = nullptr;
// The self-pipe: the handler writes a byte so that a Ctrl-C arriving just before GetCharFn blocks
// in poll() still wakes it (a flag alone is missed when the signal lands between the check and
// the read).
int g_wake[2] = {-1, -1};

void OnSigint(int) {
  int saved = errno;
  g_interrupted.store(true);
  if (g_wake[1] >= 0) {
    ssize_t n = ::write(g_wake[1], "i", 1);  // a full pipe already wakes the reader
    (void)n;
  }
  HttpClient::CancelInFlight();
  errno = saved;
}

void DrainWakePipe() {
  if (g_wake[0] < 0) return;
  char buf[64];
  while (::read(g_wake[0], buf, sizeof buf) > 0) {
  }
}

}  // namespace

void LineEditor::InstallInterruptHandler() {
  if (g_wake[0] < 0 && ::pipe2(g_wake, O_NONBLOCK | O_CLOEXEC) != 0) g_wake[0] = g_wake[1] = -1;
  struct sigaction sa;
  std::memset(&sa, 0, sizeof sa);
  sa.sa_handler = OnSigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;  // no SA_RESTART: a blocked read() returns EINTR
  sigaction(SIGINT, &sa, nullptr);
  // A parent may have started the shell with SIGINT blocked (the mask survives exec); Ctrl-C
  // must still reach the handler.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigprocmask(SIG_UNBLOCK, &set, nullptr);
}

LineEditor::LineEditor(const char* program, std::FILE* in, std::FILE* out, std::FILE* err,
                       std::string history_path)
    : out_(out), history_path_(std::move(history_path)), in_fd_(fileno(in)) {
  g_editor = this;
  hist_ = history_init();
  HistEvent ev;
  history(hist_, &ev, H_SETSIZE, 2000);
  history(hist_, &ev, H_SETUNIQUE, 1);
  if (!history_path_.empty()) history(hist_, &ev, H_LOAD, history_path_.c_str());

  el_ = el_init(program, in, out, err);
  el_set(el_, EL_EDITOR, "emacs");
  el_set(el_, EL_SIGNAL, 0);
  el_set(el_, EL_PROMPT, &LineEditor::PromptFn);
  el_set(el_, EL_HIST, history, hist_);
  el_set(el_, EL_GETCFN, &LineEditor::GetCharFn);
  el_set(el_, EL_ADDFN, "vigil-complete", "complete PromQL and meta commands",
         &LineEditor::CompleteFn);
  el_set(el_, EL_BIND, "^I", "vigil-complete", nullptr);
  el_source(el_, nullptr);  // ~/.editrc, as other libedit programs do
}

LineEditor::~LineEditor() {
  if (el_ != nullptr) el_end(el_);
  if (hist_ != nullptr) history_end(hist_);
  g_editor = nullptr;
}

char* LineEditor::PromptFn(editline*) {
  return const_cast<char*>(g_editor->current_prompt_->c_str());
}

// Reads one character for libedit. Unlike libedit's own reader, it gives up on the first EINTR
// caused by Ctrl-C, so the line being typed is dropped at once.
int LineEditor::GetCharFn(editline*, wchar_t* wc) {
  std::mbstate_t state{};
  char buf[MB_LEN_MAX];
  size_t n = 0;
  for (;;) {
    if (g_interrupted.load()) {  // Ctrl-C between two reads: drop the line now
      *wc = 0;
      return -1;
    }
    pollfd fds[2] = {{g_editor->in_fd_, POLLIN, 0}, {g_wake[0], POLLIN, 0}};
    int ready = ::poll(fds, g_wake[0] >= 0 ? 2 : 1, -1);
    if (ready < 0 && errno != EINTR) {
      *wc = 0;
      return -1;
    }
    if (ready <= 0) continue;  // EINTR: the flag is checked at the top
    if (g_wake[0] >= 0 && (fds[1].revents & POLLIN)) DrainWakePipe();
    if ((fds[0].revents & (POLLIN | POLLHUP | POLLERR)) == 0) continue;
    char c;
    ssize_t r = ::read(g_editor->in_fd_, &c, 1);
    if (r < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      *wc = 0;
      return -1;
    }
    if (r == 0) {
      *wc = 0;
      return 0;
    }
    buf[n++] = c;
    wchar_t out;
    size_t k = std::mbrtowc(&out, buf, n, &state);
    if (k == static_cast<size_t>(-2) && n < sizeof buf) continue;  // incomplete sequence
    if (k == static_cast<size_t>(-1) || k == static_cast<size_t>(-2)) {
      out = static_cast<unsigned char>(buf[0]);  // not valid in this locale: pass the byte on
    }
    *wc = out;
    return 1;
  }
}

unsigned char LineEditor::CompleteFn(editline*, int) { return g_editor->DoComplete(); }

unsigned char LineEditor::DoComplete() {
  if (!completer_) return CC_ERROR;
  const LineInfo* li = el_line(el_);
  std::string before = pending_;
  if (!before.empty()) before += "\n";
  before.append(li->buffer, size_t(li->cursor - li->buffer));
  HttpClient::ResetCancel();
  Completion c = completer_(before);
  if (g_interrupted.exchange(false)) {
    // Ctrl-C while the server was asked for names: drop the completion, keep the line.
    HttpClient::ResetCancel();
    std::fputs("\n(completion cancelled)\n", out_);
    std::fflush(out_);
    return CC_REDISPLAY;
  }
  if (!c.insert.empty()) {
    el_insertstr(el_, c.insert.c_str());
    if (c.candidates.size() <= 1) return CC_REFRESH;
  }
  if (c.candidates.size() <= 1) {
    if (!c.status.ok()) {
      std::string msg = "\n(completion: " + c.status.message() + ")\n";
      std::fwrite(msg.data(), 1, msg.size(), out_);
      return CC_REDISPLAY;
    }
    return c.candidates.empty() ? CC_ERROR : CC_REFRESH;
  }
  if (!c.insert.empty()) return CC_REFRESH;  // a common prefix was added; Tab again lists
  // List the candidates in columns below the line, then redraw the prompt and line.
  constexpr size_t kMaxShown = 120;
  int width = 80;
  if (const char* cols = std::getenv("COLUMNS")) width = std::max(20, std::atoi(cols));
  int el_cols = 0;
  if (el_get(el_, EL_GETTC, "co", &el_cols) == 0 && el_cols > 0) width = el_cols;
  size_t shown = std::min(c.candidates.size(), kMaxShown);
  int w = 0;
  for (size_t i = 0; i < shown; ++i) w = std::max(w, DisplayWidth(c.candidates[i]));
  int col_w = w + 2;
  size_t ncols = size_t(std::max(1, width / col_w));
  size_t nrows = (shown + ncols - 1) / ncols;
  std::string out = "\n";
  for (size_t r = 0; r < nrows; ++r) {
    std::string line;
    for (size_t col = 0; col < ncols; ++col) {
      size_t i = col * nrows + r;
      if (i >= shown) break;
      line += c.candidates[i];
      line.append(size_t(col_w - DisplayWidth(c.candidates[i])), ' ');
    }
    while (!line.empty() && line.back() == ' ') line.pop_back();
    out += line + "\n";
  }
  if (shown < c.candidates.size()) {
    out += "… " + std::to_string(c.candidates.size() - shown) + " more\n";
  }
  std::fwrite(out.data(), 1, out.size(), out_);
  std::fflush(out_);
  return CC_REDISPLAY;
}

LineEditor::Read LineEditor::ReadStatement(std::string* statement) {
  pending_.clear();
  current_prompt_ = &prompt_;
  for (;;) {
    g_interrupted.store(false);
    DrainWakePipe();  // a Ctrl-C that cancelled the previous query is spent
    int count = 0;
    const char* line = el_gets(el_, &count);
    if (g_interrupted.load() || (count < 0 && errno == EINTR)) {
      g_interrupted.store(false);
      HttpClient::ResetCancel();
      el_reset(el_);
      std::fputs("^C\n", out_);
      std::fflush(out_);
      pending_.clear();
      return Read::kInterrupted;
    }
    if (line == nullptr || count <= 0) {
      std::fputs("\n", out_);
      std::fflush(out_);
      return Read::kEof;
    }
    std::string_view l(line, size_t(count));
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r')) l.remove_suffix(1);
    if (pending_.empty()) {
      std::string_view t = l;
      while (!t.empty() && (t.front() == ' ' || t.front() == '\t')) t.remove_prefix(1);
      if (t.empty()) continue;
      if (t.starts_with("\\")) {
        *statement = std::string(t);
        return Read::kStatement;
      }
    }
    std::string joined = pending_.empty() ? std::string(l) : pending_ + "\n" + std::string(l);
    if (NeedsMoreInput(joined)) {
      std::string_view stripped = StripContinuation(l);
      pending_ = pending_.empty() ? std::string(stripped) : pending_ + "\n" + std::string(stripped);
      current_prompt_ = &continuation_prompt_;
      continue;
    }
    *statement = std::move(joined);
    pending_.clear();
    return Read::kStatement;
  }
}

void LineEditor::AddHistory(std::string_view statement) {
  std::string entry(statement);
  std::replace(entry.begin(), entry.end(), '\n', ' ');
  HistEvent ev;
  history(hist_, &ev, H_ENTER, entry.c_str());
  if (!history_path_.empty()) history(hist_, &ev, H_SAVE, history_path_.c_str());
}

}  // namespace vigil::shell
