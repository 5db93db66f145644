// vigil: the operator's shell for Vigil (tools/vigil/README.md).
#include "tools/vigil/cli.h"

int main(int argc, char** argv) { return vigil::shell::RunVigil(argc, argv); }
