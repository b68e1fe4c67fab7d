import ArgumentParser

/// The store directory of every command that reads or changes an existing store: checked to be
/// one before the command runs.
struct ExistingStore: ParsableArguments {
    @Argument(help: ArgumentHelp("The store directory.", valueName: "store"))
    var path: String

    func validate() throws {
        try StoreFiles.requireStore(path)
    }
}

/// `--json`: machine-readable output.
struct OutputFormat: ParsableArguments {
    @Flag(help: "Print JSON instead of text.")
    var json = false
}
