import Foundation
import IMAPProtocol
import MailStore

/// Serializes the storage check and the store of APPEND and COPY per account, so that two sessions racing
/// for the last bytes of a quota cannot both get them (within this process, the only one serving IMAP
/// for the data).
actor StorageQuotaGate {
    static let shared = StorageQuotaGate()

    private var busy: Set<String> = []
    private var waiting: [String: [CheckedContinuation<Void, Never>]] = [:]

    func acquire(_ accountID: String) async {
        guard busy.contains(accountID) else {
            busy.insert(accountID)
            return
        }
        await withCheckedContinuation { waiting[accountID, default: []].append($0) }
    }

    /// Hands the account to the next waiter, if any (it stays busy), else frees it.
    func release(_ accountID: String) {
        if var queue = waiting[accountID], !queue.isEmpty {
            let next = queue.removeFirst()
            waiting[accountID] = queue.isEmpty ? nil : queue
            next.resume()
        } else {
            busy.remove(accountID)
        }
    }

}

extension IMAPSession {
    /// The one quota root: the whole account (RFC 9208 §3.2 lets all mailboxes share a root).
    static let quotaRoot = ""

    /// Storage allowance in bytes: the plan's, plus purchased extras.
    func storageLimit(of account: Account) async -> Int64 {
        let extra: Int64
        do {
            extra = try await quotas?.extras(ofAccount: account.id).storage ?? 0
        } catch {
            logger.error("IMAP quota extras lookup failed: \(error)")
            extra = 0
        }
        return (settings.storagePerPlan[account.plan] ?? settings.defaultStorage) &+ extra
    }

    /// `* QUOTA "" (STORAGE used limit)`, in units of 1024 octets rounded up (RFC 9208 §5.1).
    func quotaResponse(_ account: Account) async throws -> UntaggedData {
        let used = try await requireMail().storageUsed()
        let limit = await storageLimit(of: account)
        func kib(_ bytes: Int64) -> UInt64 { UInt64(max(0, bytes)) / 1024 + (bytes % 1024 > 0 ? 1 : 0) }
        return .quota(root: Self.quotaRoot, [QuotaUsage(resource: "STORAGE", usage: kib(used), limit: kib(limit))])
    }

    /// GETQUOTAROOT (RFC 9208 §4.3).
    func getQuotaRoot(_ tag: String, _ name: MailboxName) async throws -> Outcome {
        guard let account else { return bad(tag, "Log in first") }
        guard try await requireMail().mailboxID(named: Self.storeName(name)) != nil else {
            return no(tag, code: .nonExistent, "No such mailbox")
        }
        untagged(.quotaRoot(name, roots: [Self.quotaRoot]))
        untagged(try await quotaResponse(account))
        return try await complete(tag, .getQuotaRoot(name))
    }

    /// GETQUOTA (RFC 9208 §4.2).
    func getQuota(_ tag: String, root: String) async throws -> Outcome {
        guard let account else { return bad(tag, "Log in first") }
        guard root == Self.quotaRoot else { return no(tag, code: .nonExistent, "No such quota root") }
        untagged(try await quotaResponse(account))
        return try await complete(tag, .getQuota(root: root))
    }

    /// Whether storing `adding` more bytes would pass the account's storage allowance (RFC 9208 §5:
    /// APPEND/COPY then fail with OVERQUOTA).
    /// A failed usage lookup lets the write through (logged): storage errors surface when storing.
    func wouldExceedStorage(adding: Int64) async -> Bool {
        guard let account, let mail else { return false }
        let used: Int64
        do {
            used = try await mail.storageUsed()
        } catch {
            logger.error("IMAP storage usage lookup failed: \(error)")
            return false
        }
        let limit = await storageLimit(of: account)
        return used >= limit || used &+ adding > limit
    }

    /// The `NO [LIMIT]` text when the account's weekly transfer allowance is used up, else nil. Listing,
    /// flag changes, expunging and LOGOUT keep working, so the user can always clean up.
    func bandwidthRefusal() async -> String? {
        guard let quotas, let account else { return nil }
        do {
            let extra = try await quotas.extras(ofAccount: account.id).bandwidthPerWeek
            let limit = (settings.bandwidthPerWeek[account.plan] ?? settings.defaultBandwidth) &+ extra
            let usage = try await quotas.trafficUsage(accountID: account.id, now: Date())
            guard usage.used >= limit else { return nil }
            let frees = usage.freesAt.map { "; it frees up from \(Self.utc($0))" } ?? ""
            return "Weekly transfer allowance of \(limit) bytes used up\(frees). Flags, deleting and moving still work"
        } catch {
            logger.error("IMAP bandwidth check failed: \(error)")
            return nil
        }
    }

    /// Counts bytes downloaded or uploaded against the weekly allowance.
    func recordTraffic(_ bytes: Int64) async {
        guard bytes > 0, let quotas, let account else { return }
        do {
            try await quotas.recordTraffic(accountID: account.id, bytes: bytes, now: Date())
        } catch {
            logger.error("IMAP traffic accounting failed: \(error)")
        }
    }

    static func utc(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: date)
    }
}
