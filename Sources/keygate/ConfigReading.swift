import Configuration
import KeygateCore

/// Reads a key declared in ``ConfigKeys`` by its name, with its declared default: flag, then environment, then the
/// default (the swift-configuration way). The only way the CLI and the server read configuration.
extension ConfigReader {
    func value(_ setting: ConfigSetting<Int>) -> Int { int(forKey: ConfigKey(setting.name), default: setting.defaultValue) }
    func value(_ setting: ConfigSetting<Bool>) -> Bool { bool(forKey: ConfigKey(setting.name), default: setting.defaultValue) }
    func value(_ setting: ConfigSetting<String>) -> String { string(forKey: ConfigKey(setting.name), default: setting.defaultValue) }
    func value(_ setting: ConfigSetting<Int?>) -> Int? { int(forKey: ConfigKey(setting.name)) }
    func value(_ setting: ConfigSetting<Bool?>) -> Bool? { bool(forKey: ConfigKey(setting.name)) }
    func value(_ setting: ConfigSetting<String?>, isSecret: Bool = false) -> String? {
        string(forKey: ConfigKey(setting.name), isSecret: isSecret)
    }
}
