#include "CTimelineText.h"

#if defined(__SSE2__)
#include <emmintrin.h>
#elif defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif

static inline int timeline_json_plain(uint8_t byte) {
    return byte >= 0x20 && byte < 0x7F && byte != '"' && byte != '\\';
}

size_t timeline_json_plain_prefix(const uint8_t *bytes, size_t count) {
    size_t index = 0;
#if defined(__SSE2__)
    // As signed bytes, 0x80-0xFF are negative: one "less than 0x20" finds controls and non-ASCII.
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"');
    const __m128i backslash = _mm_set1_epi8('\\'), del = _mm_set1_epi8(0x7F);
#define TIMELINE_STOPS(chunk) _mm_or_si128(_mm_or_si128(_mm_cmplt_epi8(chunk, space), _mm_cmpeq_epi8(chunk, quote)), \
                                           _mm_or_si128(_mm_cmpeq_epi8(chunk, backslash), _mm_cmpeq_epi8(chunk, del)))
    // Thirty-two bytes a step while none stops the scan, then sixteen to find which one does.
    for (; index + 32 <= count; index += 32) {
        __m128i first = TIMELINE_STOPS(_mm_loadu_si128((const __m128i *)(bytes + index)));
        __m128i second = TIMELINE_STOPS(_mm_loadu_si128((const __m128i *)(bytes + index + 16)));
        if (_mm_movemask_epi8(_mm_or_si128(first, second)) != 0) break;
    }
    for (; index + 16 <= count; index += 16) {
        int mask = _mm_movemask_epi8(TIMELINE_STOPS(_mm_loadu_si128((const __m128i *)(bytes + index))));
        if (mask != 0) return index + (size_t)__builtin_ctz((unsigned)mask);
    }
    // The last bytes: the final sixteen, overlapping those already seen, whose marks are shifted out.
    if (index < count && count >= 16) {
        unsigned seen = (unsigned)(index - (count - 16));
        unsigned mask = (unsigned)_mm_movemask_epi8(TIMELINE_STOPS(_mm_loadu_si128((const __m128i *)(bytes + count - 16)))) >> seen;
        return mask != 0 ? index + (size_t)__builtin_ctz(mask) : count;
    }
#undef TIMELINE_STOPS
#elif defined(__aarch64__) && defined(__ARM_NEON)
    const uint8x16_t space = vdupq_n_u8(0x20), del = vdupq_n_u8(0x7F);
    const uint8x16_t quote = vdupq_n_u8('"'), backslash = vdupq_n_u8('\\');
    for (; index + 16 <= count; index += 16) {
        uint8x16_t chunk = vld1q_u8(bytes + index);
        uint8x16_t stop = vorrq_u8(vorrq_u8(vcltq_u8(chunk, space), vcgeq_u8(chunk, del)),
                                   vorrq_u8(vceqq_u8(chunk, quote), vceqq_u8(chunk, backslash)));
        if (vmaxvq_u8(stop) != 0) break;   // the byte loop below finds which
    }
#endif
    while (index < count && timeline_json_plain(bytes[index])) index += 1;
    return index;
}
