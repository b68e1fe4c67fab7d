// The text every benchmark's turn contents are cut from, shared by timeline-bench and
// TimelineInstructions.
public import Foundation

/// Made-up English-like prose, the same on every run.
public enum Prose {
    /// Text the contents are cut from (ASCII, so any byte range is a valid string): 1.2 MB of
    /// made-up prose that compresses as English does. Words of one to six syllables, 5,000 of
    /// them, drawn with Zipf–Mandelbrot frequencies (rank r weighs 1 / (r + 2.7)^1.35); sentences
    /// of 5–25 words, a comma after 8 % of the words, a paragraph break after a fifth of the
    /// sentences. LZ4 shrinks its 1 KB, 2 KB, 4 KB and 32 KB pieces 1.26×, 1.33×, 1.40× and
    /// 1.58× — the same cuts of `Docs/architecture.md` 1.23×, 1.32×, 1.41×, 1.65×, of the GPL's
    /// text 1.30×, 1.42×, 1.53×, 1.81×: as compressible as English prose, at its low end
    /// (`Docs/benchmarks.md`, "Large values compressed"). Before 2026-11-30 the text was one
    /// sentence repeated, which any compressor shrinks ~50-fold.
    public static let text: [UInt8] = {
        var random = SplitMix64(state: 0x7E47)
        let syllables = ["th", "e", "an", "re", "in", "on", "at", "en", "nd", "ti", "es", "or", "te", "of", "ed", "is", "it",
                         "al", "ar", "st", "to", "nt", "ng", "se", "ha", "as", "ou", "io", "le", "ve", "co", "me", "de", "hi",
                         "ri", "ro", "ic", "ne", "ea", "ra", "ce", "li", "ch", "ll", "be", "ma", "si", "om", "ur"].map { Array($0.utf8) }
        var words: [[UInt8]] = []
        var seen: Set<[UInt8]> = []
        while words.count < 5_000 {
            let rank = words.count
            // Frequent words are short: one or two syllables among the first 50, longer after.
            let count = 1 + min(5, Int(-log(max(1 - random.unit(), 1e-12))) + (rank > 50 ? 1 : 0) + (rank > 500 ? 1 : 0))
            let word = (0..<count).flatMap { _ in syllables[random.below(syllables.count)] }
            if seen.insert(word).inserted { words.append(word) }
        }
        var cumulative: [Double] = []
        var total = 0.0
        for rank in words.indices {
            total += 1 / pow(Double(rank) + 2.7, 1.35)
            cumulative.append(total)
        }
        func pick() -> [UInt8] {
            let target = random.unit() * total
            var low = 0, high = cumulative.count - 1
            while low < high {
                let middle = (low + high) / 2
                if cumulative[middle] < target { low = middle + 1 } else { high = middle }
            }
            return words[low]
        }
        var text: [UInt8] = []
        text.reserveCapacity(1_250_000)
        while text.count < 1_200_000 {
            let length = 5 + random.below(21)
            for index in 0..<length {
                var word = pick()
                if index == 0 { word[0] &-= 32 }  // capitalized: the syllables are lower-case ASCII
                text += word
                if index < length - 1 {
                    if random.unit() < 0.08 { text.append(UInt8(ascii: ",")) }
                    text.append(UInt8(ascii: " "))
                }
            }
            text += Array(". ".utf8)
            if random.unit() < 0.2 { text += Array("\n\n".utf8) }
        }
        return text
    }()


    /// Piece `index` of a set shaped like timeline-bench's contents: a length drawn
    /// log-uniformly from 50 B to 4 KiB, cut from ``text`` at a place drawn from `index`.
    public static func piece(_ index: Int) -> String {
        var random = SplitMix64(state: 0xC0FFEE ^ UInt64(index) &* 0x9E37_79B9)
        let size = Int(exp(log(50.0) + random.unit() * log(4096.0 / 50.0)))
        let start = random.below(text.count - size)
        return String(decoding: text[start..<start + size], as: UTF8.self)
    }
}

/// The seeded random numbers of the benchmarks' fixtures (SplitMix64): the same on every run.
public struct SplitMix64 {
    public var state: UInt64
    public init(state: UInt64) { self.state = state }
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// A number in [0, 1).
    public mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// A number in [0, bound).
    public mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(max(bound, 1))) }
}
