import ArgumentParser
import Foundation
import KeygateCore

/// `keygate config`: every configuration key, its default and its environment variable, from ``ConfigKeys`` (the one
/// place they are declared). `--markdown` prints the README's table.
struct ConfigCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "config", abstract: "List every configuration key, its default and its environment variable.")

    @Flag(help: "Print the README's Markdown table.") var markdown = false

    func run() {
        if markdown {
            print(ConfigKeys.markdownTable())
            return
        }
        for row in ConfigKeys.rows {
            for key in row.keys {
                print("\(key.name)  (\(Self.environmentName(key.name)))  default: \(key.defaultText.replacingOccurrences(of: "`", with: ""))")
            }
        }
    }

    /// `KEYGATE_` and the key with dots and camelCase turned into underscores (`session.ztwIdleSeconds` →
    /// `KEYGATE_SESSION_ZTW_IDLE_SECONDS`), as the environment provider reads it.
    static func environmentName(_ key: String) -> String {
        var out = "KEYGATE_"
        var previous: Character = "."
        for character in key {
            if character == "." {
                out.append("_")
            } else {
                if character.isUppercase && previous.isLowercase { out.append("_") }
                out.append(contentsOf: character.uppercased())
            }
            previous = character
        }
        return out
    }
}
