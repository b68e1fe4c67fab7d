#ifndef CTIMELINELZ4_SHIM_H
#define CTIMELINELZ4_SHIM_H
#include <lz4.h>
#endif
