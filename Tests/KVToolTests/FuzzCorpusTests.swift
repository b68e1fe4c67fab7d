import TestSupport
import Foundation
import FuzzTargets
import Testing

/// The fuzz targets' regression run: every checked-in seed (and every finding added since) goes
/// through the same entry point libFuzzer calls (`scripts/fuzz.sh` runs them for long), and so do
/// seeded mutations of them — a short fuzz run in every test run.
@Suite("Fuzz corpus replay")
struct FuzzCorpusTests {
    static let corpus = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../Fuzz/Corpus").standardized

    @Test("every seed and finding of each target runs without a trap", arguments: FuzzTarget.allCases)
    func replay(_ target: FuzzTarget) throws {
        let directory = Self.corpus.appendingPathComponent(target.rawValue)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path).sorted()
        #expect(!files.isEmpty, "no seeds for \(target.rawValue)")
        var random = SeededGenerator(seed: 8949)
        for file in files {
            let seed = [UInt8](try Data(contentsOf: directory.appendingPathComponent(file)))
            seed.withUnsafeBytes { target.run($0) }
            // Seeded mutations: flipped, inserted and removed bytes, truncations.
            for _ in 0..<300 {
                var mutated = seed
                for _ in 0..<(1 + Int(random.next() % 4)) where !mutated.isEmpty {
                    let at = Int(random.next() % UInt64(mutated.count))
                    switch random.next() % 4 {
                    case 0: mutated[at] = UInt8(truncatingIfNeeded: random.next())
                    case 1: mutated.insert(UInt8(truncatingIfNeeded: random.next()), at: at)
                    case 2: mutated.remove(at: at)
                    default: mutated.removeLast(mutated.count - at)
                    }
                }
                mutated.withUnsafeBytes { target.run($0) }
            }
        }
    }
}
