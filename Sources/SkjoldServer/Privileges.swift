import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Least privilege for `skjold serve`, the Postfix way: started as root, the server binds its ports,
/// hands `data_dir` (and `nobackup_dir`) to the unprivileged `user`, and becomes that user before the
/// first client byte is parsed. Root without `user` is refused unless the admin insists
/// (`--allow-root`; `--dev` implies it, see `plan(user:allowRoot:effectiveUID:)`).
///
/// Files the server creates are private to that user: `skjold` sets umask 077 at start, so databases,
/// message files, queue files and the TLS key are 0600 and folders 0700.
public enum Privileges {
    /// The account the server switches to.
    public struct ServiceAccount: Sendable, Equatable {
        public var name: String
        public var uid: uid_t
        public var gid: gid_t

        public init(name: String, uid: uid_t, gid: gid_t) {
            self.name = name
            self.uid = uid
            self.gid = gid
        }
    }

    /// What `serve` does about its identity, decided from the configuration before anything is written.
    public enum Plan: Sendable, Equatable {
        /// Not started as root: nothing to switch. `ignoredUser` is a configured `user` this process
        /// cannot become (only root can change identity).
        case unprivileged(ignoredUser: String?)
        /// Root, allowed to stay root (`--allow-root`, or `--dev` without `user`).
        case stayRoot
        /// Root: become this account once the listeners are bound.
        case switchTo(ServiceAccount)

        /// A line for the log at start, when the plan deserves one.
        public var warning: String? {
            switch self {
            case .unprivileged(let user?):
                return "not started as root: user = \"\(user)\" is ignored, running as uid \(geteuid())"
            case .unprivileged(nil), .switchTo:
                return nil
            case .stayRoot:
                return "running as root: set user = \"NAME\" to run as an unprivileged account after binding the ports"
            }
        }
    }

    /// Why `serve` cannot start as asked: one line for the admin, and the exit code.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        public var message: String
        /// 78 (EX_CONFIG) for a configuration the admin must change, 71 (EX_OSERR) when the system refused.
        public var exitCode: Int32

        public var description: String { message }
    }

    /// Decides the plan. Root needs a `user` (an existing account other than root) or `allowRoot`.
    public static func plan(user: String?, allowRoot: Bool, effectiveUID: uid_t = geteuid()) throws(Failure) -> Plan {
        guard effectiveUID == 0 else {
            if let user, lookUp(user)?.uid != effectiveUID { return .unprivileged(ignoredUser: user) }
            return .unprivileged(ignoredUser: nil)
        }
        guard let user else {
            if allowRoot { return .stayRoot }
            throw Failure(message: "refusing to run as root: set user = \"NAME\" in the configuration (an unprivileged account "
                              + "that will own data_dir), or pass --allow-root", exitCode: 78)
        }
        guard let account = lookUp(user) else {
            throw Failure(message: "user \"\(user)\": no such user (create one, e.g. `useradd --system --no-create-home skjold`)",
                          exitCode: 78)
        }
        guard account.uid != 0 else {
            throw Failure(message: "user \"\(user)\" is root (uid 0): name an unprivileged account, or remove user and pass --allow-root",
                          exitCode: 78)
        }
        return .switchTo(account)
    }

    /// Carries out a `.switchTo` plan (other plans do nothing): creates the owned folders if missing,
    /// gives them (recursively) to the account, then sets the supplementary groups, group and user and
    /// checks that root cannot be regained and that the folders are reachable.
    ///
    /// Call it after binding the listeners and before serving. glibc applies set*id to every thread of
    /// the process, so the event-loop threads already running switch too.
    public static func apply(_ plan: Plan, ownedPaths: [String]) throws(Failure) -> ServiceAccount? {
        guard case .switchTo(let account) = plan else { return nil }
        for path in ownedPaths {
            if !FileManager.default.fileExists(atPath: path) {
                do {
                    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true,
                                                            attributes: [.posixPermissions: 0o700])
                } catch {
                    throw Failure(message: "cannot create \(path): \(error.localizedDescription)", exitCode: 71)
                }
            }
            // nobackup_dir usually lies inside data_dir: walked once.
            let inside = ownedPaths.contains { other in other != path && path.hasPrefix(other.hasSuffix("/") ? other : other + "/") }
            if !inside { try giveTree(path, to: account) }
        }
        try become(account)
        for path in ownedPaths where access(path, R_OK | W_OK | X_OK) != 0 {
            throw Failure(message: "\(path) is not reachable for user \"\(account.name)\": let it traverse every parent folder "
                              + "(e.g. chmod o+x on them), or move the data", exitCode: 78)
        }
        return account
    }

    /// Raises the soft limit on open files to the hard limit (many systems start services at 1024
    /// soft, far below the connection caps). Returns the limit now in force.
    @discardableResult
    public static func raiseOpenFileLimit() -> UInt64 {
        var limit = rlimit()
        #if canImport(Glibc)
        let resource = __rlimit_resource_t(RLIMIT_NOFILE.rawValue)
        #else
        let resource = RLIMIT_NOFILE
        #endif
        guard getrlimit(resource, &limit) == 0 else { return 0 }
        if limit.rlim_cur < limit.rlim_max {
            var raised = limit
            raised.rlim_cur = limit.rlim_max
            if setrlimit(resource, &raised) == 0 { limit = raised }
        }
        return UInt64(limit.rlim_cur)
    }

    // MARK: Steps

    /// The passwd entry of `name`.
    static func lookUp(_ name: String) -> ServiceAccount? {
        var entry = passwd()
        var result: UnsafeMutablePointer<passwd>?
        var buffer = [CChar](repeating: 0, count: 16 * 1024)
        let status = getpwnam_r(name, &entry, &buffer, buffer.count, &result)
        guard status == 0, result != nil else { return nil }
        return ServiceAccount(name: name, uid: entry.pw_uid, gid: entry.pw_gid)
    }

    /// `chown -R` without following symbolic links and without a window for one to be swapped in:
    /// every step is relative to an already opened folder, folders are opened with O_NOFOLLOW, links are
    /// changed themselves (never their targets), and files with more than one hard link are left alone
    /// (a link to a file outside the tree, planted by whoever owns the tree, must not be given away).
    static func giveTree(_ path: String, to account: ServiceAccount) throws(Failure) {
        let fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard fd >= 0 else { throw Failure(message: "cannot open \(path): \(errorText())", exitCode: 71) }
        defer { close(fd) }
        guard fchown(fd, account.uid, account.gid) == 0 else {
            throw Failure(message: "cannot give \(path) to user \"\(account.name)\": \(errorText())", exitCode: 71)
        }
        try giveContents(of: fd, path: path, to: account, depth: 0)
    }

    private static func giveContents(of directory: Int32, path: String, to account: ServiceAccount, depth: Int) throws(Failure) {
        // The store's layout is a few levels deep; anything far deeper is not ours to walk.
        guard depth < 64 else { return }
        let listFD = dup(directory)
        guard listFD >= 0, let stream = fdopendir(listFD) else {
            if listFD >= 0 { close(listFD) }
            throw Failure(message: "cannot list \(path): \(errorText())", exitCode: 71)
        }
        defer { closedir(stream) }
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: MemoryLayout.size(ofValue: entry.pointee.d_name)) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            var info = stat()
            guard fstatat(directory, name, &info, AT_SYMLINK_NOFOLLOW) == 0 else { continue }  // removed meanwhile
            let type = info.st_mode & S_IFMT
            if type == S_IFDIR {
                let child = openat(directory, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
                guard child >= 0 else { throw Failure(message: "cannot open \(path)/\(name): \(errorText())", exitCode: 71) }
                defer { close(child) }
                if info.st_uid != account.uid || info.st_gid != account.gid {
                    guard fchown(child, account.uid, account.gid) == 0 else {
                        throw Failure(message: "cannot give \(path)/\(name) to user \"\(account.name)\": \(errorText())", exitCode: 71)
                    }
                }
                try giveContents(of: child, path: path + "/" + name, to: account, depth: depth + 1)
            } else if info.st_uid != account.uid || info.st_gid != account.gid {
                if type != S_IFLNK && info.st_nlink > 1 { continue }
                guard fchownat(directory, name, account.uid, account.gid, AT_SYMLINK_NOFOLLOW) == 0 else {
                    throw Failure(message: "cannot give \(path)/\(name) to user \"\(account.name)\": \(errorText())", exitCode: 71)
                }
            }
        }
    }

    /// setgroups([]), setgid, setuid — in that order (after setuid the others are no longer allowed) —
    /// then proof that it took: real and effective ids are the account's in every thread of the process
    /// and root cannot be regained.
    ///
    /// Credentials are per thread on Linux; glibc's set*id functions apply them to every thread by
    /// signalling the others, but skip a thread that is exiting — and with an async `main`, libdispatch
    /// parks the main thread in exactly that state (a `pthread_exit` destructor that loops in
    /// `sigsuspend` to serve signals). A root main thread sharing our memory would undo the whole
    /// exercise, so the switch is made *from* the main thread: glibc then changes it directly and
    /// broadcasts to every other (live) thread.
    static func become(_ account: ServiceAccount) throws(Failure) {
        if !switchOnMainThread(account) {
            // The main thread did not answer (signal blocked, or no such thread): switch from here; the
            // per-thread check below tells whether that was enough.
            guard setgroups(0, nil) == 0 else { throw Failure(message: "setgroups: \(errorText())", exitCode: 71) }
            guard setgid(account.gid) == 0 else { throw Failure(message: "setgid(\(account.gid)): \(errorText())", exitCode: 71) }
            guard setuid(account.uid) == 0 else { throw Failure(message: "setuid(\(account.uid)): \(errorText())", exitCode: 71) }
        }
        guard getuid() == account.uid, geteuid() == account.uid, getgid() == account.gid, getegid() == account.gid,
              setuid(0) != 0 else {
            throw Failure(message: "switching to user \"\(account.name)\" did not drop root", exitCode: 71)
        }
        if let thread = threadStillPrivileged(account) {
            throw Failure(message: "switching to user \"\(account.name)\" left thread \(thread) with other ids", exitCode: 71)
        }
    }

    /// What the main thread's signal handler is asked to do, and where it reports (set before the
    /// signal is sent, read only by the handler).
    private struct MainThreadRequest {
        var uid: uid_t
        var gid: gid_t
        var reportFD: Int32
    }
    nonisolated(unsafe) private static var mainThreadRequest = MainThreadRequest(uid: 0, gid: 0, reportFD: -1)

    /// Runs in the main thread's signal handler: async-signal-safe calls only (set*id and write are).
    private static func handleSwitchSignal() {
        let saved = errno
        let request = mainThreadRequest
        var status: UInt8 = 0
        if setgroups(0, nil) != 0 {
            status = 1
        } else if setgid(request.gid) != 0 {
            status = 2
        } else if setuid(request.uid) != 0 {
            status = 3
        }
        _ = write(request.reportFD, &status, 1)
        errno = saved
    }

    /// Asks the main thread (tid = pid) to switch, through a real-time signal nobody else handles;
    /// returns whether it reported success within 5 s.
    private static func switchOnMainThread(_ account: ServiceAccount) -> Bool {
        #if canImport(Glibc)
        typealias TGKill = @convention(c) (pid_t, pid_t, Int32) -> Int32
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "tgkill") else { return false }
        let tgkill = unsafeBitCast(symbol, to: TGKill.self)
        // A real-time signal whose disposition is still the default: nobody else is using it.
        var previous = sigaction()
        var signal: Int32 = 0
        for candidate in (__libc_current_sigrtmin() + 4)...(__libc_current_sigrtmax() - 4) {
            guard sigaction(candidate, nil, &previous) == 0 else { continue }
            if unsafeBitCast(previous.__sigaction_handler, to: Int.self) == 0 {
                signal = candidate
                break
            }
        }
        guard signal != 0 else { return false }
        var fds: [Int32] = [-1, -1]
        guard pipe(&fds) == 0 else { return false }
        defer {
            close(fds[0])
            close(fds[1])
        }
        mainThreadRequest = MainThreadRequest(uid: account.uid, gid: account.gid, reportFD: fds[1])
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in Privileges.handleSwitchSignal() }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        guard sigaction(signal, &action, nil) == 0 else { return false }
        defer { sigaction(signal, &previous, nil) }
        guard tgkill(getpid(), getpid(), signal) == 0 else { return false }
        // Bounded wait for the report (signals, glibc's own included, may interrupt poll).
        let deadline = ContinuousClock.now + .seconds(5)
        var report = pollfd(fd: fds[0], events: Int16(POLLIN), revents: 0)
        while ContinuousClock.now < deadline {
            let ready = poll(&report, 1, 100)
            if ready > 0 {
                var status: UInt8 = 255
                guard read(fds[0], &status, 1) == 1 else { return false }
                return status == 0
            }
            if ready < 0 && errno != EINTR { return false }
        }
        return false
        #else
        return false  // elsewhere set*id is process-wide (Darwin) or the libc is not glibc
        #endif
    }

    /// The first thread of this process whose real or effective ids are not the account's, if any.
    static func threadStillPrivileged(_ account: ServiceAccount) -> String? {
        guard let tasks = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return nil }
        for task in tasks {
            // A thread that ended meanwhile has no status to read: nothing to worry about.
            guard let status = try? String(contentsOfFile: "/proc/self/task/\(task)/status", encoding: .utf8) else { continue }
            for line in status.split(separator: "\n") where line.hasPrefix("Uid:") || line.hasPrefix("Gid:") {
                let expected = line.hasPrefix("Uid:") ? UInt32(account.uid) : UInt32(account.gid)
                let ids = line.dropFirst(4).split(whereSeparator: { $0 == "\t" || $0 == " " }).compactMap { UInt32($0) }
                if ids.isEmpty || ids.contains(where: { $0 != expected }) { return task }
            }
        }
        return nil
    }

    private static func errorText() -> String {
        String(cString: strerror(errno))
    }
}
