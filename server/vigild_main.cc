// vigild: Vigil's server. See server/README.md.

#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <string>

#include "server/config/config.h"
#include "server/cq/extension.h"
#include "server/vigild.h"
#include "storage/base/logging.h"

#ifndef VIGIL_VERSION
#define VIGIL_VERSION "unknown"
#endif
#ifndef VIGIL_REVISION
#define VIGIL_REVISION ""
#endif
#ifndef VIGIL_BRANCH
#define VIGIL_BRANCH ""
#endif

int main(int argc, char** argv) {
  bool help = false;
  auto config = vigil::server::ParseVigildArgs(argc, argv, &help);
  if (help) {
    std::fputs(vigil::server::VigildUsage().c_str(), stdout);
    return 0;
  }
  if (!config.ok()) {
    std::fprintf(stderr, "vigild: %s\n", config.status().message().c_str());
    return 2;
  }
  const std::string& level = config->log_level;
  vigil::SetMinLogLevel(level == "debug"  ? vigil::LogLevel::kDebug
                        : level == "warn" ? vigil::LogLevel::kWarn
                        : level == "error" ? vigil::LogLevel::kError
                                           : vigil::LogLevel::kInfo);

  // Signals are taken by sigwait below, never by a handler in a random thread: block them before
  // any thread starts so every thread inherits the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  vigil::server::BuildInfo build;
  build.version = VIGIL_VERSION;
  build.revision = VIGIL_REVISION;
  build.branch = VIGIL_BRANCH;
  build.build_date = __DATE__ " " __TIME__;
  build.compiler = "gcc " __VERSION__;

  auto server = vigil::server::Vigild::Start(*config, build, {vigil::server::cq::MakeCqExtension()});
  if (!server.ok()) {
    std::fprintf(stderr, "vigild: %s\n", server.status().ToString().c_str());
    return 1;
  }
  int sig = 0;
  sigwait(&signals, &sig);
  VIGIL_LOG(INFO) << "received " << (sig == SIGTERM ? "SIGTERM" : "SIGINT") << ", shutting down";
  vigil::Status st = (*server)->Stop();
  if (!st.ok()) {
    std::fprintf(stderr, "vigild: %s\n", st.ToString().c_str());
    return 1;
  }
  return 0;
}
