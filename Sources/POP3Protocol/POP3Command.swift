/// A POP3 command (RFC 1939 §5–7, RFC 2449 CAPA, RFC 2595 STLS, RFC 5034 AUTH).
///
/// Message numbers are 1-based as on the wire; whether they exist is the session's business.
public enum POP3Command: Sendable, Hashable {
    case user(String)
    case pass(String)
    /// `AUTH` alone lists mechanisms; `AUTH mech [initial-response]` starts SASL. `initialResponse` is the
    /// raw base64 text (`=` for an empty response), decoded by the caller.
    case auth(mechanism: String?, initialResponse: String?)
    case capa
    case stls
    case stat
    case list(Int?)
    case retr(Int)
    case dele(Int)
    case noop
    case rset
    case quit
    case top(message: Int, lines: Int)
    case uidl(Int?)
    /// A verb this server does not implement (APOP, or anything unknown), upper-cased and made printable.
    case unknown(String)
}

/// Why a command line was refused. Every case is answered `-ERR` and the session continues.
public enum POP3SyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    case emptyLine
    case nulByte
    case missingArgument(verb: String)
    case tooManyArguments(verb: String)
    case invalidNumber(verb: String)

    public var description: String {
        switch self {
        case .emptyLine: return "Empty command"
        case .nulByte: return "NUL byte in command"
        case .missingArgument(let verb): return "\(verb): missing argument"
        case .tooManyArguments(let verb): return "\(verb): too many arguments"
        case .invalidNumber(let verb): return "\(verb): invalid message number"
        }
    }
}

/// Parser for one command line (without CRLF).
public enum POP3CommandParser {
    /// RFC 2449 §4: a command line is at most 255 octets; SASL responses may be longer (handled apart).
    public static let maximumLineLength = 255

    public static func parse(line: some Collection<UInt8>) -> Result<POP3Command, POP3SyntaxError> {
        let bytes = Array(line)
        if bytes.contains(0) { return .failure(.nulByte) }
        // PASS takes the rest of the line verbatim (RFC 1939 §7: the password may contain spaces).
        let verbEnd = bytes.firstIndex(of: 0x20) ?? bytes.count
        let verb = String(decoding: bytes[..<verbEnd].map { $0 >= 0x61 && $0 <= 0x7A ? $0 - 0x20 : $0 }, as: UTF8.self)
        if verb.isEmpty { return .failure(.emptyLine) }
        let rest = verbEnd < bytes.count ? Array(bytes[(verbEnd + 1)...]) : []
        let arguments = rest.split(separator: 0x20, omittingEmptySubsequences: true).map { String(decoding: $0, as: UTF8.self) }

        func none(_ command: POP3Command) -> Result<POP3Command, POP3SyntaxError> {
            arguments.isEmpty ? .success(command) : .failure(.tooManyArguments(verb: verb))
        }
        func optionalNumber(_ make: (Int?) -> POP3Command) -> Result<POP3Command, POP3SyntaxError> {
            switch arguments.count {
            case 0: return .success(make(nil))
            case 1:
                guard let n = number(arguments[0]) else { return .failure(.invalidNumber(verb: verb)) }
                return .success(make(n))
            default: return .failure(.tooManyArguments(verb: verb))
            }
        }
        func oneNumber(_ make: (Int) -> POP3Command) -> Result<POP3Command, POP3SyntaxError> {
            guard !arguments.isEmpty else { return .failure(.missingArgument(verb: verb)) }
            guard arguments.count == 1 else { return .failure(.tooManyArguments(verb: verb)) }
            guard let n = number(arguments[0]) else { return .failure(.invalidNumber(verb: verb)) }
            return .success(make(n))
        }

        switch verb {
        case "USER":
            guard arguments.count == 1 else {
                return .failure(arguments.isEmpty ? .missingArgument(verb: verb) : .tooManyArguments(verb: verb))
            }
            return .success(.user(arguments[0]))
        case "PASS":
            guard !rest.isEmpty else { return .failure(.missingArgument(verb: verb)) }
            return .success(.pass(String(decoding: rest, as: UTF8.self)))
        case "AUTH":
            switch arguments.count {
            case 0: return .success(.auth(mechanism: nil, initialResponse: nil))
            case 1: return .success(.auth(mechanism: arguments[0].uppercased(), initialResponse: nil))
            case 2: return .success(.auth(mechanism: arguments[0].uppercased(), initialResponse: arguments[1]))
            default: return .failure(.tooManyArguments(verb: verb))
            }
        case "CAPA": return none(.capa)
        case "STLS": return none(.stls)
        case "STAT": return none(.stat)
        case "NOOP": return none(.noop)
        case "RSET": return none(.rset)
        case "QUIT": return none(.quit)
        case "LIST": return optionalNumber { .list($0) }
        case "UIDL": return optionalNumber { .uidl($0) }
        case "RETR": return oneNumber { .retr($0) }
        case "DELE": return oneNumber { .dele($0) }
        case "TOP":
            guard arguments.count == 2 else {
                return .failure(arguments.count < 2 ? .missingArgument(verb: verb) : .tooManyArguments(verb: verb))
            }
            guard let message = number(arguments[0]), let lines = number(arguments[1], allowZero: true) else {
                return .failure(.invalidNumber(verb: verb))
            }
            return .success(.top(message: message, lines: lines))
        default:
            let printable = verb.unicodeScalars.prefix(16).map { $0.value >= 0x21 && $0.value <= 0x7E ? Character($0) : "?" }
            return .success(.unknown(String(printable)))
        }
    }

    /// A message number or line count: ASCII digits only, at most 9 of them (no overflow, no signs).
    static func number(_ text: String, allowZero: Bool = false) -> Int? {
        guard !text.isEmpty, text.utf8.count <= 9, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), let value = Int(text) else {
            return nil
        }
        return value > 0 || allowZero ? value : nil
    }
}
