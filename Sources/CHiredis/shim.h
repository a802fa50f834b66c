#ifndef BOSUN_CHIREDIS_SHIM_H
#define BOSUN_CHIREDIS_SHIM_H
#include <hiredis/hiredis.h>
#endif
