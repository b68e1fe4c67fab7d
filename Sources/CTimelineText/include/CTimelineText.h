#ifndef CTIMELINETEXT_H
#define CTIMELINETEXT_H

#include <stddef.h>
#include <stdint.h>

/// How many of the `count` bytes at `bytes`, from the first, can go into a JSON string as they
/// are: printable ASCII (0x20-0x7E) other than '"' and '\\'. The first byte it stops at (when it
/// returns less than `count`) needs an escape, or is not ASCII and must be checked as UTF-8.
///
/// Sixteen bytes a step with SSE2 (every x86-64) or NEON (every arm64), a byte a step elsewhere.
size_t timeline_json_plain_prefix(const uint8_t *bytes, size_t count);

#endif
