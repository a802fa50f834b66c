#ifndef BOSUN_CSECCOMP_SHIM_H
#define BOSUN_CSECCOMP_SHIM_H
#include <seccomp.h>
#endif
