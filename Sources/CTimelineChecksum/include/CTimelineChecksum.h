#ifndef CTIMELINECHECKSUM_H
#define CTIMELINECHECKSUM_H

#include <stddef.h>
#include <stdint.h>

/// Whether this CPU computes CRC-32C in hardware (SSE 4.2 on x86-64; the CRC extension on arm64,
/// where the compiler was told the target has it), so that `timeline_crc32c_update` may be called.
int timeline_crc32c_hardware(void);

/// Continues the CRC-32C (Castagnoli) `crc` — 0 to start — over the `count` bytes at `bytes`, by
/// the CPU's CRC instructions, eight bytes a step. Only when `timeline_crc32c_hardware()`.
uint32_t timeline_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count);

#endif
