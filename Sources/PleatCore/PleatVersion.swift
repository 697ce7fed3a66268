/// The release this build is (`pleat --version`, `pleat doctor`): raised with every release, so a bug
/// report and a model's registry record can say which code made them.
public enum PleatVersion {
    public static let number = "0.1.0"

    public static var description: String { "pleat \(number)" }
}
