// CRC-32C by the CPU's own instructions, for the write-ahead log's records (`CRC32C` in
// TimelineLMDB, which keeps a table-driven loop for CPUs without them).
#include "CTimelineChecksum.h"
#include <string.h>

#if defined(__x86_64__)
#include <nmmintrin.h>

int timeline_crc32c_hardware(void) { return __builtin_cpu_supports("sse4.2"); }

__attribute__((target("sse4.2")))
uint32_t timeline_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint64_t value = ~crc & 0xFFFFFFFFu;
    for (; count >= 8; bytes += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        value = _mm_crc32_u64(value, word);
    }
    uint32_t narrow = (uint32_t)value;
    for (; count > 0; bytes++, count--) narrow = _mm_crc32_u8(narrow, *bytes);
    return ~narrow;
}

#elif defined(__aarch64__) && defined(__ARM_FEATURE_CRC32)
#include <arm_acle.h>

int timeline_crc32c_hardware(void) { return 1; }

uint32_t timeline_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    uint32_t value = ~crc;
    for (; count >= 8; bytes += 8, count -= 8) {
        uint64_t word;
        memcpy(&word, bytes, 8);
        value = __crc32cd(value, word);
    }
    for (; count > 0; bytes++, count--) value = __crc32cb(value, *bytes);
    return ~value;
}

#else

int timeline_crc32c_hardware(void) { return 0; }

uint32_t timeline_crc32c_update(uint32_t crc, const uint8_t *bytes, size_t count) {
    (void)bytes;
    (void)count;
    return crc;  // never called: `timeline_crc32c_hardware()` is 0
}

#endif
