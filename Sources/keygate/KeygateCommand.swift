import ArgumentParser

/// `keygate`: the server and the operator's command line. Every command works on the same database whether or
/// not the server runs.
@main
struct KeygateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keygate",
        abstract: "Organization API keys and legacy API sessions, self-hosted.",
        subcommands: [
            Serve.self, Migrate.self, MigrateData.self, OrgCommand.self, KeyCommand.self, AdminCommand.self, AuditCommand.self, ProviderCommand.self,
            LoginFailuresCommand.self, HousekeepingCommand.self, MasterKeyCommand.self, UsageCommand.self, ConfigCommand.self, BackupCommand.self,
        ],
        defaultSubcommand: nil)
}
