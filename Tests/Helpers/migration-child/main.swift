// A child process for the migration tests: opens a store of people lazily, registers version 3
// and migrates it, printing a line after every batch and pausing, so that the test can kill it
// in the middle.
//   migration-child PATH BATCH PAUSE_MICROSECONDS
import TimelineDocumentStore
import Foundation
import MigrationFixtures

let arguments = CommandLine.arguments
guard arguments.count == 4, let batch = Int(arguments[2]), let pause = UInt32(arguments[3]) else {
    FileHandle.standardError.write(Data("usage: migration-child PATH BATCH PAUSE_MICROSECONDS\n".utf8))
    exit(2)
}
do {
    let store = try Store(path: arguments[1], migrationPolicy: .lazy)
    _ = try People.openV3(store)
    let runner = MigrationRunner(store: store, backup: false, batchSize: batch) { progress in
        FileHandle.standardOutput.write(Data("progress \(progress.done)\n".utf8))
        usleep(pause)
    }
    try runner.run()
    print("done")
} catch {
    FileHandle.standardError.write(Data("migration-child: \(error)\n".utf8))
    exit(1)
}
