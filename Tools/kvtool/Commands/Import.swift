import ArgumentParser
import Foundation
import Timeline

/// `kvtool import`: one session from a JSON document.
struct Import: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add one session from a JSON document written by `kvtool export` or exportJSON.",
        discussion: """
            The whole document is checked before anything is written (one transaction). A session \
            id that already exists is refused unless --replace (which deletes it first, as \
            deleteSession does) or --new-ids (which imports a copy under fresh ids). Version 1 \
            documents (costs as decimal numbers) are read too. Safe next to a running service.

            Example:
              kvtool import /var/lib/chat/timeline session.json --new-ids
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: ArgumentHelp("The document, or - for standard input.", valueName: "file"))
    var file: String

    @Flag(name: .customLong("new-ids"), help: "Give the session, its turns and checkpoints fresh ids.")
    var newIDs = false

    @Flag(help: "Replace a session with the same id.")
    var replace = false

    func run() async throws {
        let json: Data
        if file == "-" {
            json = try FileProbe.standardInput()
        } else {
            json = try FileProbe.contents(of: file)
        }
        let timeline = try TimelineStore(path: store.path)
        do {
            let session = try await timeline.importJSON(json, options: ImportOptions(newIDs: newIDs, replace: replace))
            print("imported session \(session.id) (\(session.turnCount) turns) into \(store.path)")
        } catch let error as TimelineError {
            await timeline.close()
            throw Refusal("\(error)")
        }
        await timeline.close()
    }
}
