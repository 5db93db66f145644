// vigil-native-example: writes a few series to vigild over the native protocol with the client
// library (server/native/client.h) and prints each batch's acknowledgement.
//
//   vigil-native-example [flags] [host] [port]        (defaults: 127.0.0.1 9095)
//
//   --token=T             bearer token with the write scope (vigild's --auth.token-file)
//   --token-file=FILE     read the token from FILE (first line)
//   --tls                 connect with TLS (vigild's --tls.cert-file)
//   --ca-file=FILE        CA certificate(s) to verify the server with (implies --tls)
//   --server-name=NAME    name the certificate must carry (default: host) (implies --tls)
//   --insecure-skip-verify  TLS without verifying the server (tests only) (implies --tls)

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "server/native/client.h"

namespace {

void Usage(const char* argv0) {
  std::fprintf(stderr,
               "usage: %s [--token=T | --token-file=FILE] [--tls] [--ca-file=FILE]\n"
               "          [--server-name=NAME] [--insecure-skip-verify] [host] [port]\n",
               argv0);
}

}  // namespace

int main(int argc, char** argv) {
  vigil::native::ClientOptions options;
  options.client_name = "vigil-native-example/1";
  std::vector<std::string> positional;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view flag, std::string* out) {
      if (!a.starts_with(flag)) return false;
      if (a.size() > flag.size() && a[flag.size()] == '=') {
        *out = std::string(a.substr(flag.size() + 1));
        return true;
      }
      if (a.size() == flag.size() && i + 1 < argc) {
        *out = argv[++i];
        return true;
      }
      return false;
    };
    std::string v;
    if (value("--token-file", &v)) {
      std::ifstream in(v);
      if (!in || !std::getline(in, options.token)) {
        std::fprintf(stderr, "cannot read a token from %s\n", v.c_str());
        return 2;
      }
      while (!options.token.empty() &&
             (options.token.back() == '\r' || options.token.back() == ' ')) {
        options.token.pop_back();
      }
    } else if (value("--token", &v)) {
      options.token = v;
    } else if (a == "--tls") {
      options.tls.enabled = true;
    } else if (value("--ca-file", &v)) {
      options.tls.enabled = true;
      options.tls.ca_file = v;
    } else if (value("--server-name", &v)) {
      options.tls.enabled = true;
      options.tls.server_name = v;
    } else if (a == "--insecure-skip-verify") {
      options.tls.enabled = true;
      options.tls.insecure_skip_verify = true;
    } else if (a == "-h" || a == "--help") {
      Usage(argv[0]);
      return 0;
    } else if (a.starts_with("-")) {
      std::fprintf(stderr, "unknown flag %s\n", argv[i]);
      Usage(argv[0]);
      return 2;
    } else {
      positional.emplace_back(a);
    }
  }
  if (positional.size() > 2) {
    Usage(argv[0]);
    return 2;
  }
  const std::string host = !positional.empty() ? positional[0] : "127.0.0.1";
  const int port = positional.size() > 1 ? std::atoi(positional[1].c_str()) : 9095;
  if (port <= 0 || port > 65535) {
    Usage(argv[0]);
    return 2;
  }
  auto client = vigil::native::NativeClient::Connect(host, static_cast<uint16_t>(port), options);
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  std::printf("connected to %s%s (protocol version %u, max frame %u bytes)\n",
              (*client)->server_name().c_str(), (*client)->tls() ? " over TLS" : "",
              (*client)->version(), (*client)->max_frame_bytes());

  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  // Two batches of one minute each: a counter and a gauge per instance, one sample every 15 s.
  for (int b = 0; b < 2; ++b) {
    vigil::native::WriteBatchBuilder batch;
    for (const char* instance : {"web-1", "web-2"}) {
      std::vector<int64_t> ts;
      std::vector<double> counter, gauge;
      for (int i = 0; i < 4; ++i) {
        const int k = b * 4 + i;
        ts.push_back(now - (8 - k) * 15000);
        counter.push_back(100.0 * k);
        gauge.push_back(0.5 + 0.25 * std::sin(k));
      }
      const vigil::native::LabelView c[] = {
          {"__name__", "example_requests_total"}, {"instance", instance}, {"job", "example"}};
      const vigil::native::LabelView g[] = {
          {"__name__", "example_load"}, {"instance", instance}, {"job", "example"}};
      batch.AddSeries(c, ts, counter);
      batch.AddSeries(g, ts, gauge);
    }
    auto ack = (*client)->Write(batch);
    if (!ack.ok()) {
      std::fprintf(stderr, "write: %s\n", ack.status().ToString().c_str());
      return 1;
    }
    std::printf("batch %llu: %s, %llu samples written, %llu rejected%s%s\n",
                static_cast<unsigned long long>(ack->batch_id),
                std::string(vigil::native::BatchStatusName(ack->status)).c_str(),
                static_cast<unsigned long long>(ack->samples_written),
                static_cast<unsigned long long>(ack->samples_rejected),
                ack->message.empty() ? "" : ": ", ack->message.c_str());
  }
  return 0;
}
