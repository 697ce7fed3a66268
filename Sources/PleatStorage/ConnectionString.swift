import Foundation

/// PostgreSQL connection strings, as libpq takes them: a `postgresql://` URL or `key=value` keywords.
public enum ConnectionString {
    /// The string with every password masked, in either form: `user:secret@` in a URL, a `password=`
    /// query parameter, and a `password=secret` or `password='a secret'` keyword. Every message, log line
    /// and JSON object that shows a connection string shows this.
    public static func redacted(_ text: String) -> String {
        var out = text
        // URL user info: scheme://user:password@host
        out = out.replacingOccurrences(of: #"(://[^:/?#@\s]*):[^@/?#\s]*@"#, with: "$1:***@", options: .regularExpression)
        // URL query parameter: ?password=... or &password=...
        out = out.replacingOccurrences(of: #"([?&]password=)[^&#\s]*"#, with: "$1***", options: [.regularExpression, .caseInsensitive])
        // Keyword form: password = 'quoted \' value' or password=bare
        out = out.replacingOccurrences(of: #"(\bpassword\s*=\s*)'(?:[^'\\]|\\.)*'"#, with: "$1***", options: [.regularExpression, .caseInsensitive])
        out = out.replacingOccurrences(of: #"(\bpassword\s*=\s*)(?!\*\*\*)[^\s'&]+"#, with: "$1***", options: [.regularExpression, .caseInsensitive])
        return out
    }
}
