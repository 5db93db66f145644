// vigil-native-example: writes a few series to vigild over the native protocol with the client
// library (server/native/client.h) and prints each batch's acknowledgement.
//
//   vigil-native-example [host] [port]        (defaults: 127.0.0.1 9095)

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "server/native/client.h"

int main(int argc, char** argv) {
  const std::string host = argc > 1 ? argv[1] : "127.0.0.1";
  const int port = argc > 2 ? std::atoi(argv[2]) : 9095;
  if (port <= 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s [host] [port]\n", argv[0]);
    return 2;
  }
  auto client = vigil::native::NativeClient::Connect(host, static_cast<uint16_t>(port));
  if (!client.ok()) {
    std::fprintf(stderr, "connect: %s\n", client.status().ToString().c_str());
    return 1;
  }
  std::printf("connected to %s (protocol version %u, max frame %u bytes)\n",
              (*client)->server_name().c_str(), (*client)->version(),
              (*client)->max_frame_bytes());

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
