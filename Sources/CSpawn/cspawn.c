#include "cspawn.h"
int rft_cspawn_version(void) { return 1; }
