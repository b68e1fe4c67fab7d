import ArgumentParser
import Foundation
import Timeline

/// `kvtool export`: one session as a self-contained JSON document.
struct Export: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Write one session, with its turns, checkpoints and crystals, as a JSON document.",
        discussion: """
            The document is what TimelineStore.exportJSON writes (version 2): sorted keys, UTC \
            microsecond timestamps, exact costs in nano-units. A fork's inherited turns are included \
            and the session presented as a root, unless --own-turns-only. `kvtool import` (or \
            importJSON) reads it back. The store is opened read-only.

            Example:
              kvtool export /var/lib/chat/timeline E621E1F8-C36C-495A-93FC-0C247A3E6E5F --output session.json
            """
    )

    @OptionGroup var store: ExistingStore

    @Argument(help: ArgumentHelp("The session id.", valueName: "session"))
    var session: String

    @Option(help: ArgumentHelp("Write to this file (created with mode 0600) instead of standard output.", valueName: "file"))
    var output: String?

    @Flag(help: "Overwrite the --output file if it exists.")
    var force = false

    @Flag(help: "For a fork: only its own turns (importing then needs its parent).")
    var ownTurnsOnly = false

    func validate() throws {
        guard UUID(uuidString: session) != nil else { throw ValidationError("\(session) is not a session id (a UUID)") }
    }

    func run() throws {
        let timeline = try TimelineStore(path: store.path, configuration: .init(readOnly: true), migrationPolicy: .lazy)
        let json = try timeline.exportJSON(UUID(uuidString: session)!, includeInherited: !ownTurnsOnly)
        let out = try OutputStream(path: output, replace: force, store: store.path)
        try out.write(line: String(decoding: json, as: UTF8.self))
        try out.flush()
    }
}
