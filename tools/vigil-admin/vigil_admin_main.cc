// vigil-admin: offline tools for a Vigil data directory and its files.
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 2 || std::strcmp(argv[1], "--help") == 0) {
    std::printf("usage: vigil-admin <command> [args]\n");
    return argc < 2 ? 2 : 0;
  }
  std::fprintf(stderr, "vigil-admin: unknown command '%s'\n", argv[1]);
  return 2;
}
