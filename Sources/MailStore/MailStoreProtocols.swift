import Foundation

/// Domains, accounts, aliases and credentials. Safe to use from several processes at once (the server
/// and the admin CLI share it).
public protocol MailDirectory: Sendable {
    func addDomain(_ name: String) async throws -> HostedDomain
    func removeDomain(_ name: String) async throws
    func domains() async throws -> [HostedDomain]
    func isHostedDomain(_ name: String) async throws -> Bool

    /// Creates the account and its folder with the default mailboxes; nothing is half-written on failure.
    func addAccount(_ address: String, password: String, plan: String, noBackup: Bool) async throws -> Account
    func account(_ address: String) async throws -> Account?
    func account(id: String) async throws -> Account?
    func accounts() async throws -> [Account]
    func setPassword(_ address: String, password: String) async throws
    func setPlan(_ address: String, plan: String) async throws
    /// Removes the account, its aliases, credentials and every byte of its mail.
    func eraseAccount(_ address: String) async throws

    func addAlias(_ alias: String, target: String) async throws -> Alias
    func removeAlias(_ alias: String) async throws
    func aliases(of target: String?) async throws -> [Alias]

    /// RCPT TO decision: account, alias, unknown user of a hosted domain, or not hosted.
    func resolveRecipient(_ address: String) async throws -> RecipientResolution
    /// Password check; nil for a wrong password or unknown login (indistinguishable, also in time).
    func authenticate(_ login: String, password: String) async throws -> Account?
    /// The addresses an account may use as envelope sender: its own and its aliases.
    func senderAddresses(of account: Account) async throws -> [EmailAddress]
}

/// One account's mail: mailboxes and messages. Writes to one account are serialised by the store.
public protocol AccountMailStore: Sendable {
    var account: Account { get }
    func mailboxes() async throws -> [MailboxInfo]
    func mailbox(named name: String) async throws -> MailboxInfo?
    func createMailbox(_ name: String, specialUse: SpecialUse?) async throws -> MailboxInfo
    func deleteMailbox(_ name: String) async throws
    func renameMailbox(_ name: String, to newName: String) async throws

    /// Stores a message durably (blob fsync'd, index committed) before returning.
    func deliver(_ source: MessageSource, to mailbox: String, flags: Set<String>, internalDate: Date) async throws -> DeliveryReceipt
    func messages(in mailbox: String) async throws -> [MessageRecord]
    func messageBytes(in mailbox: String, uid: UID) async throws -> [UInt8]
    /// Path of the message file, for streaming large messages without loading them.
    func messagePath(in mailbox: String, uid: UID) async throws -> String
    func setFlags(in mailbox: String, uids: [UID], flags: Set<String>) async throws
    func expunge(in mailbox: String, uids: [UID]) async throws
    /// Bytes of all messages in all mailboxes (the storage quota's "used").
    func storageUsed() async throws -> Int64
}

/// The whole store: the directory plus access to each account's mail.
public protocol MailStore: Sendable {
    var directory: any MailDirectory { get }
    var queue: any OutboundQueue { get }
    func mail(for account: Account) async throws -> any AccountMailStore
}
