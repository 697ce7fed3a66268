import Foundation

/// A config as a tree of typed JSON values: the form in which the defaults, a config file and each
/// `--set` are overlaid before the result is decoded into `TrainingConfig`. Overlaying works on the tree
/// (not on the struct) so that a file or a stored config may name any subset of keys, and a key that does
/// not exist is an error naming it rather than a silently ignored field.
enum ConfigTree: Codable, Equatable {
    case section([String: ConfigTree])
    /// A list (`target_events`), replaced whole by an overlay.
    case array([ConfigTree])
    case string(String)
    case bool(Bool)
    /// Integers apart from doubles so that a 64-bit seed survives the trip unrounded.
    case integer(Int64)
    case unsigned(UInt64)
    case number(Double)
    case null

    init(from decoder: Decoder) throws {
        let value = try decoder.singleValueContainer()
        if value.decodeNil() { self = .null
        } else if let b = try? value.decode(Bool.self) { self = .bool(b)
        } else if let i = try? value.decode(Int64.self) { self = .integer(i)
        } else if let u = try? value.decode(UInt64.self) { self = .unsigned(u)
        } else if let d = try? value.decode(Double.self) { self = .number(d)
        } else if let s = try? value.decode(String.self) { self = .string(s)
        } else if let list = try? value.decode([ConfigTree].self) { self = .array(list)
        } else { self = .section(try value.decode([String: ConfigTree].self)) }
    }

    func encode(to encoder: Encoder) throws {
        var value = encoder.singleValueContainer()
        switch self {
        case .section(let entries): try value.encode(entries)
        case .array(let list): try value.encode(list)
        case .string(let s): try value.encode(s)
        case .bool(let b): try value.encode(b)
        case .integer(let i): try value.encode(i)
        case .unsigned(let u): try value.encode(u)
        case .number(let d): try value.encode(d)
        case .null: try value.encodeNil()
        }
    }

    /// The tree of a JSON document, or nil when `json` is not valid JSON.
    static func parse(_ json: String) -> ConfigTree? {
        try? JSONDecoder().decode(ConfigTree.self, from: Data(json.utf8))
    }

    var entries: [String: ConfigTree]? {
        if case .section(let entries) = self { return entries }
        return nil
    }
}
