import ArgumentParser

/// `kvtool`: look into, repair and exercise a TimelineStore (an LMDB environment) from the shell.
@main
struct KVTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvtool",
        abstract: "Inspect and exercise a TimelineStore (an LMDB environment directory).",
        discussion: "Run 'kvtool demo PATH' to build an example store, then 'kvtool stat PATH' to look at it.",
        version: "0.1.0",
        subcommands: [Demo.self, Stat.self]
    )
}
