/// Failures of the backup, restore and export tooling; each description is one line for the admin.
public enum AdminError: Error, Equatable, CustomStringConvertible {
    case noStore(String)
    case notABackup(String)
    case unsupportedBackup(String, found: String)
    case destinationNotEmpty(String)
    case destinationOverlapsStore(String, store: String)
    case backupInUse(String)
    case brokenBackup(String)
    case exists(String)
    case io(String)

    public var description: String {
        switch self {
        case .noStore(let dir): return "no Skjold store in \(dir) (skjold.sqlite missing)"
        case .notABackup(let dir): return "\(dir) is not a Skjold backup (no manifest.json)"
        case .unsupportedBackup(let dir, let found): return "\(dir) holds a backup this version cannot read (\(found))"
        case .destinationNotEmpty(let dir): return "\(dir) is not empty: restore only into an empty or missing data directory"
        case .destinationOverlapsStore(let dir, let store): return "\(dir) overlaps the store at \(store): choose a folder outside it"
        case .backupInUse(let dir): return "another backup is writing to \(dir)"
        case .brokenBackup(let what): return "backup is damaged: \(what)"
        case .exists(let path): return "\(path) already exists"
        case .io(let what): return what
        }
    }
}
