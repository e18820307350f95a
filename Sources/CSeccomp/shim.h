#ifndef RFT_CSECCOMP_SHIM_H
#define RFT_CSECCOMP_SHIM_H
#include <seccomp.h>
#endif
