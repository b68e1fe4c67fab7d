import ArgumentParser

/// `kvtool`: look into, repair and exercise a TimelineStore (an LMDB environment) from the shell.
@main
struct KVTool: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvtool",
        abstract: "Inspect, check, repair and exercise a TimelineStore (an LMDB environment directory).",
        discussion: """
            Start with 'kvtool demo PATH' to build an example store, then look at it with \
            'kvtool stat PATH', 'kvtool sessions PATH' and 'kvtool dump PATH'. Every command that \
            only reads opens the store read-only and is safe next to a running service.
            """,
        version: "0.1.0",
        subcommands: [Demo.self, Stat.self, Check.self, Dump.self, Load.self, Get.self, Sessions.self, Turns.self, Changes.self, Export.self, Import.self, Backup.self, Migrate.self, Compress.self, RepairTotals.self]
    )

    /// Runs the command, with damaged-page faults reported in words (see ``FaultReport``).
    static func main() async {
        FaultReport.install()
        await main(nil)
        checkStandardOutput()
    }
}
