import Foundation

/// A domain the server receives mail for.
public struct HostedDomain: Sendable, Hashable {
    public var name: String
    public var createdAt: Date
    public init(name: String, createdAt: Date) {
        self.name = name
        self.createdAt = createdAt
    }
}

/// A mailbox owner: one login, one mail folder tree.
public struct Account: Sendable, Hashable {
    /// Random, never reused identifier; also the name of the account's folder.
    public var id: String
    public var address: EmailAddress
    public var plan: String
    /// No Backup accounts live under `nobackup_dir` and are never copied by a backup.
    public var noBackup: Bool
    public var createdAt: Date

    public init(id: String, address: EmailAddress, plan: String, noBackup: Bool, createdAt: Date) {
        self.id = id
        self.address = address
        self.plan = plan
        self.noBackup = noBackup
        self.createdAt = createdAt
    }
}

/// Another address that delivers into an account, and that the account may send as.
public struct Alias: Sendable, Hashable {
    public var address: EmailAddress
    public var target: EmailAddress
    public var createdAt: Date
    public init(address: EmailAddress, target: EmailAddress, createdAt: Date) {
        self.address = address
        self.target = target
        self.createdAt = createdAt
    }
}

/// Errors of the account directory; each description is one line meant for an admin.
public enum DirectoryError: Error, Equatable, CustomStringConvertible {
    case malformedAddress(String)
    case malformedDomain(String)
    case unknownDomain(String)
    case duplicateDomain(String)
    case domainInUse(String, addresses: Int)
    case duplicateAddress(String)
    case aliasShadowsAccount(String)
    case aliasTargetMissing(alias: String, target: String)
    case aliasOfAlias(alias: String, target: String)
    case noSuchAccount(String)
    case noSuchAlias(String)
    case unknownPlan(String, known: [String])
    case weakPassword(String)
    case aliasLimitReached(account: String, limit: Int)
    case invalidQuota(String)
    case duplicateAppPassword(account: String, name: String)
    case noSuchAppPassword(account: String, name: String)
    case invalidAppPasswordName(String)

    public var description: String {
        switch self {
        case .malformedAddress(let a): return "malformed address \"\(a)\": expected local@domain"
        case .malformedDomain(let d): return "malformed domain name \"\(d)\""
        case .unknownDomain(let d): return "unknown domain \"\(d)\": add it first with `skjold domain add \(d)`"
        case .duplicateDomain(let d): return "domain \"\(d)\" already exists"
        case .domainInUse(let d, let n): return "domain \"\(d)\" still has \(n) account(s) or alias(es): remove them first"
        case .duplicateAddress(let a): return "address \"\(a)\" already exists"
        case .aliasShadowsAccount(let a): return "alias \"\(a)\" would shadow the existing account with that address"
        case .aliasTargetMissing(let a, let t): return "alias \"\(a)\" points nowhere: no account \"\(t)\""
        case .aliasOfAlias(let a, let t): return "alias \"\(a)\" must point at an account, but \"\(t)\" is an alias"
        case .noSuchAccount(let a): return "no account \"\(a)\""
        case .noSuchAlias(let a): return "no alias \"\(a)\""
        case .unknownPlan(let p, let known): return "unknown plan \"\(p)\" (known: \(known.joined(separator: ", ")))"
        case .weakPassword(let why): return "password refused: \(why)"
        case .aliasLimitReached(let a, let limit): return "account \"\(a)\" already has \(limit) aliases, the limit of its plan"
        case .invalidQuota(let why): return "invalid quota: \(why)"
        case .duplicateAppPassword(let a, let n): return "account \"\(a)\" already has an app password named \"\(n)\""
        case .noSuchAppPassword(let a, let n): return "account \"\(a)\" has no app password named \"\(n)\""
        case .invalidAppPasswordName(let n): return "invalid app password name \"\(n)\": 1 to 64 characters, one line"
        }
    }
}

/// Where a recipient address leads.
public enum RecipientResolution: Sendable, Equatable {
    /// A hosted address: deliver to this account (`via` is the alias used, if any).
    case local(Account, via: EmailAddress?)
    /// The domain is hosted but nobody has this address (RFC 5321 550 5.1.1).
    case unknownUser
    /// The domain is not hosted here.
    case notHosted
}
