/// What ``IMAPCommandParser/next()`` produced.
public enum IMAPCommandEvent: Hashable, Sendable {
    /// A complete command.
    case command(TaggedCommand)
    /// The client announced a synchronising literal `{n}` and waits: send a continuation request
    /// (`+ Ready for literal data`) now, then keep feeding bytes (RFC 9051 §4.3, §7.5).
    case continuationRequired
    /// An APPEND message literal starts (see ``AppendMessage``). If ``AppendMessage/needsContinuation``,
    /// send `+ Ready` to accept it, or call ``IMAPCommandParser/rejectAppend()`` and reply `tag NO ...`.
    case appendMessage(AppendMessage)
    /// The next octets of the current APPEND message, as they arrive; never buffered as a whole.
    case appendData(ArraySlice<UInt8>)
    /// The current APPEND message is complete.
    case appendMessageEnd
    /// The APPEND command is complete: commit the messages and reply `tag OK [APPENDUID ...]`.
    case appendEnd(tag: String)
    /// The line answering an AUTHENTICATE challenge (after ``IMAPCommandParser/expectAuthenticationResponse()``).
    case authenticationResponse(AuthenticationResponse)
    /// `DONE` ended IDLE (after ``IMAPCommandParser/expectIdleDone()``).
    case idleDone
    /// The command was refused; see ``IMAPParseError``. If an APPEND was in progress, it is aborted.
    case error(IMAPParseError)
}

/// Incremental IMAP command parser: bytes in as they arrive, ``IMAPCommandEvent``s out.
///
/// ## Driving it
/// ```swift
/// parser.append(bytesJustRead)
/// while let event = parser.next() {
///     switch event {
///     case .command(let c):            handle(c)    // IDLE/AUTHENTICATE: see below
///     case .continuationRequired:      write("+ Ready for literal data\r\n")
///     case .appendMessage(let m):      open a temporary file (or reject: parser.rejectAppend(); write NO)
///                                      if m.needsContinuation { write("+ Ready\r\n") }
///     case .appendData(let chunk):     write chunk to the temporary file
///     case .appendMessageEnd:          finish (fsync) this message
///     case .appendEnd(let tag):        commit all, write("\(tag) OK [APPENDUID ...] APPEND completed\r\n")
///     case .authenticationResponse(let r), .idleDone: ...
///     case .error(let e):              write BAD/NO with e.tag; close when e.isFatal
///     }
/// }
/// ```
/// `next()` returns nil when it needs more bytes; feed the next read and drain again. Events depend only
/// on the byte sequence, not on how it was split into reads.
///
/// ## Framing
/// A command is one or more lines: a line ending in a literal announcement (`{n}`, `{n+}`, `~{n}`)
/// continues after the literal's `n` octets. Lines are assembled (literal payloads included) up to
/// ``Limits/maximumCommandSize``, then parsed as a whole. Lines longer than ``Limits/maximumLineLength``
/// are dropped as they arrive (never buffered) and reported once with the tag.
///
/// ## APPEND streaming
/// An APPEND's message literal is never buffered: at `{n}` the parser reports ``IMAPCommandEvent/appendMessage(_:)``
/// and then hands the following `n` octets over in chunks of whatever size arrived, then parses the rest
/// of the command line, which may announce more messages (MULTIAPPEND, RFC 3502) or end the command.
/// Calling `next()` after `.appendMessage` accepts the message. To refuse one (TRYCREATE, OVERQUOTA,
/// TOOBIG, ...), call ``rejectAppend()`` before calling `next()` again — for a synchronising literal
/// instead of sending the continuation; the parser then skips any octets the client sends anyway
/// (non-synchronising literals, later messages) without buffering them.
///
/// ## IDLE and AUTHENTICATE
/// These read lines that are not commands. After `.command(IDLE)` send `+ idling` and call
/// ``expectIdleDone()``: the next line yields ``IMAPCommandEvent/idleDone`` (or an error if it is not
/// `DONE`). After `.command(AUTHENTICATE ...)` send a challenge `+ <base64>` and call
/// ``expectAuthenticationResponse()``: the next line yields ``IMAPCommandEvent/authenticationResponse(_:)``;
/// repeat per challenge. Both modes end by themselves after one line.
///
/// ## STARTTLS and COMPRESS
/// After either, bytes already buffered were sent before the switch: check ``hasBufferedInput`` and refuse
/// them (RFC 9051 §11.1; plaintext command injection), then ``reset()``.
public struct IMAPCommandParser: Sendable {
    /// Size and depth bounds; all hostile input is measured against these.
    public struct Limits: Hashable, Sendable {
        /// Longest line (literal data excluded, CRLF excluded). RFC 7162 §4 asks for at least 8192.
        public var maximumLineLength: Int
        /// Largest literal in commands other than APPEND messages (LOGIN passwords, SEARCH strings, ...).
        public var maximumLiteralSize: Int
        /// Largest command, all lines and non-APPEND literals together.
        public var maximumCommandSize: Int
        /// Largest APPEND message (APPENDLIMIT, RFC 7889).
        public var maximumAppendSize: UInt64
        /// Deepest search-key nesting (parentheses, NOT, OR).
        public var maximumNestingDepth: Int

        public init(maximumLineLength: Int = 65_536, maximumLiteralSize: Int = 1_048_576,
                    maximumCommandSize: Int = 2_097_152, maximumAppendSize: UInt64 = 52_428_800,
                    maximumNestingDepth: Int = 32) {
            self.maximumLineLength = max(64, maximumLineLength)
            self.maximumLiteralSize = max(0, maximumLiteralSize)
            self.maximumCommandSize = max(64, maximumCommandSize)
            self.maximumAppendSize = maximumAppendSize
            self.maximumNestingDepth = max(1, maximumNestingDepth)
        }
    }

    private enum LineMode: Hashable, Sendable {
        case command, authenticationResponse, idleDone
    }

    private enum State: Hashable, Sendable {
        case line(LineMode)
        /// Copying a non-APPEND literal into the command.
        case literal(remaining: Int)
        /// Streaming an APPEND message; `accepted` once `next()` was called after `.appendMessage`.
        case appendLiteral(remaining: UInt64, synchronizing: Bool, accepted: Bool)
        /// Skipping a refused line up to its LF; `tail` keeps its last octets to spot a literal announcement.
        case discardLine(tail: [UInt8])
        /// Skipping the payload of a refused non-synchronising literal.
        case discardLiteral(remaining: UInt64)
    }

    private struct AppendContext: Hashable, Sendable {
        var tag: String
        var mailbox: MailboxName
        var messages: Int
        /// The message was `UTF8 (literal8)`: its closing parenthesis is still to come.
        var closesUTF8: Bool
    }

    public var limits: Limits
    /// Mailbox names are UTF-8 (IMAP4rev2 selected, or UTF8=ACCEPT enabled) instead of modified UTF-7.
    /// Takes effect for commands parsed after it is set.
    public var utf8Enabled: Bool

    private var input: [UInt8] = []
    private var head = 0
    /// Where the LF search resumes in line mode (everything before it was scanned).
    private var scanFrom = 0
    private var state: State = .line(.command)
    /// The command assembled so far: finished lines (each followed by CRLF and its literal payload).
    private var command: [UInt8] = []
    private var append: AppendContext?
    /// A second event owed for a too-long line that arrived whole (see ``next()``).
    private var pendingEvent: IMAPCommandEvent?

    /// How much of a dropped line's end is examined for a literal announcement. While its LF has not come
    /// one more octet is kept, for a CR that may turn out to end the line, so the same octets are examined
    /// however the line was split into reads.
    private static let tailLength = 32

    public init(limits: Limits = Limits(), utf8Enabled: Bool = false) {
        self.limits = limits
        self.utf8Enabled = utf8Enabled
    }

    /// Octets received but not yet turned into events (bounded by about one line in line mode).
    public var bufferedByteCount: Int { input.count - head }

    /// True when unconsumed input or a partial command is held (check after STARTTLS / COMPRESS).
    public var hasBufferedInput: Bool {
        bufferedByteCount > 0 || !command.isEmpty || state != .line(.command) || pendingEvent != nil
    }

    /// True while an APPEND command is between its first `.appendMessage` and `.appendEnd`.
    public var isAppendInProgress: Bool { append != nil }

    /// Feeds received octets. Drain with ``next()`` until it returns nil before feeding much more.
    public mutating func append<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        if head == input.count {
            input.removeAll(keepingCapacity: true)
            scanFrom = max(0, scanFrom - head)
            head = 0
        } else if head > 65_536 && head > input.count / 2 {
            input.removeFirst(head)
            scanFrom = max(0, scanFrom - head)
            head = 0
        }
        input.append(contentsOf: bytes)
    }

    /// Forgets everything buffered and any command in progress (after STARTTLS or COMPRESS, or to recover).
    public mutating func reset() {
        input = []
        head = 0
        scanFrom = 0
        state = .line(.command)
        command = []
        append = nil
        pendingEvent = nil
    }

    /// Reads the next line as a SASL response (RFC 9051 §6.2.2) instead of a command.
    public mutating func expectAuthenticationResponse() {
        if state == .line(.command) { state = .line(.authenticationResponse) }
    }

    /// Reads the next line as the `DONE` that ends IDLE (RFC 2177 §3) instead of a command.
    public mutating func expectIdleDone() {
        if state == .line(.command) { state = .line(.idleDone) }
    }

    /// Refuses the APPEND in progress: call right after `.appendMessage` (instead of sending the
    /// continuation for a synchronising literal), or at any later point of the APPEND. Octets the client
    /// still sends for it are skipped, not buffered. The server replies `tag NO ...` itself.
    public mutating func rejectAppend() {
        guard append != nil else { return }
        append = nil
        command = []
        switch state {
        case .appendLiteral(let remaining, let synchronizing, let accepted):
            // A synchronising literal that was never accepted will not be sent by the client.
            state = synchronizing && !accepted ? .line(.command) : .discardLiteral(remaining: remaining)
        case .line:
            // Between messages: the rest of the command line may announce more literals.
            state = .discardLine(tail: [])
        default:
            break
        }
    }

    /// The next event, or nil when more input is needed.
    public mutating func next() -> IMAPCommandEvent? {
        if let event = pendingEvent {
            pendingEvent = nil
            return event
        }
        while true {
            switch state {
            case .line(let mode):
                guard let lf = findLF() else { return lineIncomplete(mode) }
                var end = lf
                if end > head && input[end - 1] == ASCII.cr { end -= 1 }
                let line = input[head..<end]
                head = lf + 1
                scanFrom = head
                if line.count > limits.maximumLineLength {
                    let tag = mode == .command ? tagOfLongLine(line) : nil
                    failCommand()
                    // Whatever the line's end implies (a literal to skip, or framing lost) is reported after
                    // the line error, as it is when the line is dropped piecemeal and its end seen later.
                    state = .discardLine(tail: Array(line.suffix(Self.tailLength)))
                    pendingEvent = finishDiscardedLine()
                    return .error(IMAPParseError(.lineTooLong, tag: tag))
                }
                switch mode {
                case .authenticationResponse:
                    state = .line(.command)
                    return authenticationResponse(line)
                case .idleDone:
                    state = .line(.command)
                    if ASCII.equalsKeyword(line, "DONE") { return .idleDone }
                    return .error(IMAPParseError(.syntax("expected DONE"), tag: nil))
                case .command:
                    if let event = commandLine(line) { return event }
                }

            case .literal(let remaining):
                let n = min(remaining, input.count - head)
                command.append(contentsOf: input[head..<(head + n)])
                head += n
                if n < remaining {
                    state = .literal(remaining: remaining - n)
                    return nil
                }
                state = .line(.command)
                scanFrom = head

            case .appendLiteral(let remaining, let synchronizing, _):
                if remaining == 0 {
                    state = .line(.command)
                    scanFrom = head
                    return .appendMessageEnd
                }
                let available = input.count - head
                guard available > 0 else {
                    state = .appendLiteral(remaining: remaining, synchronizing: synchronizing, accepted: true)
                    return nil
                }
                let n = Int(min(UInt64(available), remaining))
                let chunk = input[head..<(head + n)]
                head += n
                state = .appendLiteral(remaining: remaining - UInt64(n), synchronizing: synchronizing, accepted: true)
                return .appendData(chunk)

            case .discardLiteral(let remaining):
                let n = Int(min(UInt64(input.count - head), remaining))
                head += n
                if UInt64(n) < remaining {
                    state = .discardLiteral(remaining: remaining - UInt64(n))
                    return nil
                }
                state = .discardLine(tail: [])

            case .discardLine(var tail):
                guard let lf = input[head...].firstIndex(of: ASCII.lf) else {
                    tail = Array((tail + input[max(head, input.count - Self.tailLength - 1)...]).suffix(Self.tailLength + 1))
                    head = input.count
                    state = .discardLine(tail: tail)
                    return nil
                }
                var end = lf
                if end > head && input[end - 1] == ASCII.cr {
                    end -= 1
                } else if end == head, tail.last == ASCII.cr {
                    // The LF starts this read; the CR before it ended an earlier one.
                    tail.removeLast()
                }
                tail = Array((tail + input[max(head, end - Self.tailLength - 1)..<end]).suffix(Self.tailLength + 1))
                head = lf + 1
                scanFrom = head
                state = .discardLine(tail: tail)
                if let event = finishDiscardedLine() { return event }
            }
        }
    }

    // MARK: - Lines

    private mutating func findLF() -> Int? {
        let from = max(head, scanFrom)
        guard from < input.count else { return nil }
        if let lf = input[from...].firstIndex(of: ASCII.lf) { return lf }
        scanFrom = input.count
        return nil
    }

    /// No LF yet: enforce the line limit on the partial line, so a line without LF cannot grow the buffer.
    private mutating func lineIncomplete(_ mode: LineMode) -> IMAPCommandEvent? {
        let pending = input[head...]
        // One octet of slack for the CR that may precede the LF.
        guard pending.count > limits.maximumLineLength + 1 else { return nil }
        let tag = mode == .command ? tagOfLongLine(pending) : nil
        failCommand()
        state = .discardLine(tail: Array(pending.suffix(Self.tailLength + 1)))
        head = input.count
        scanFrom = head
        return .error(IMAPParseError(.lineTooLong, tag: tag))
    }

    /// After a refused line: a non-synchronising literal at its end is still coming and must be skipped;
    /// a synchronising one will not be sent (no continuation was given).
    private mutating func finishDiscardedLine() -> IMAPCommandEvent? {
        guard case .discardLine(let tail) = state else { return nil }
        if let marker = LiteralMarker.find(in: tail.suffix(Self.tailLength)), !marker.synchronizing {
            guard let size = marker.size else {
                state = .line(.command)
                return .error(IMAPParseError(.literalTooLarge(nil), tag: nil, isFatal: true))
            }
            state = .discardLiteral(remaining: size)
        } else {
            state = .line(.command)
        }
        return nil
    }

    /// The tag of the command in progress, from its first line.
    private func currentTag(_ line: ArraySlice<UInt8>) -> String? {
        if let append { return append.tag }
        return CommandGrammar.extractTag(command.isEmpty ? line : command[...])
    }

    /// The tag for a line refused as too long. Such a line is seen whole when its LF came in the same read,
    /// and only as its first `maximumLineLength + 2` octets or more otherwise; so only its first
    /// `maximumLineLength` octets are used, and the tag must end with SP inside them. Else a tag longer than
    /// the limit would be reported cut short or whole depending on how the input was split.
    private func tagOfLongLine(_ line: ArraySlice<UInt8>) -> String? {
        guard append == nil, command.isEmpty else { return currentTag(line) }
        let window = line.prefix(limits.maximumLineLength)
        guard let space = window.firstIndex(of: ASCII.space) else { return nil }
        return CommandGrammar.extractTag(window[..<space])
    }

    private mutating func failCommand() {
        command = []
        append = nil
    }

    private func authenticationResponse(_ line: ArraySlice<UInt8>) -> IMAPCommandEvent {
        if line.count == 1, line.first == ASCII.star { return .authenticationResponse(.cancel) }
        guard let data = IMAPBase64.decode(line) else {
            return .error(IMAPParseError(.syntax("invalid base64 in authentication response"), tag: nil))
        }
        return .authenticationResponse(.data(data))
    }

    /// A complete command line: either the command ends here, or it announces a literal.
    private mutating func commandLine(_ line: ArraySlice<UInt8>) -> IMAPCommandEvent? {
        if let context = append { return appendContinuation(line, context) }
        let marker = LiteralMarker.find(in: line)
        guard let marker else {
            let tag = currentTag(line)
            guard command.count + line.count <= limits.maximumCommandSize else {
                failCommand()
                return .error(IMAPParseError(.lineTooLong, tag: tag))
            }
            command.append(contentsOf: line)
            let bytes = command
            command = []
            guard !bytes.isEmpty else { return .error(IMAPParseError(.syntax("empty command line"), tag: nil)) }
            var grammar = CommandGrammar(bytes, utf8: utf8Enabled, limits: limits)
            do {
                return .command(try grammar.command())
            } catch {
                return .error(IMAPParseError(error.kind, tag: tag))
            }
        }
        let tag = currentTag(line)
        if CommandGrammar.isAppend(command.isEmpty ? line : command[...]) {
            let full = command + line
            var grammar = CommandGrammar(full, utf8: utf8Enabled, limits: limits)
            do {
                if let head = try grammar.appendHead(markerStart: command.count + marker.start) {
                    command = []
                    return startAppendMessage(marker, tag: head.tag, mailbox: head.mailbox, options: head.options, index: 0)
                }
            } catch {
                return refuseLiteral(marker, IMAPParseError(error.kind, tag: tag))
            }
        }
        guard let size = marker.size, size <= UInt64(limits.maximumLiteralSize),
              UInt64(command.count) + UInt64(line.count) + 2 + size <= UInt64(limits.maximumCommandSize) else {
            return refuseLiteral(marker, IMAPParseError(.literalTooLarge(marker.size), tag: tag))
        }
        command.append(contentsOf: line)
        command.append(ASCII.cr)
        command.append(ASCII.lf)
        state = .literal(remaining: Int(size))
        return marker.synchronizing ? .continuationRequired : nil
    }

    /// The rest of an APPEND line after a message literal: end of command, or the next message.
    private mutating func appendContinuation(_ fullLine: ArraySlice<UInt8>, _ context: AppendContext) -> IMAPCommandEvent? {
        var line = fullLine
        if context.closesUTF8 {
            guard line.first == ASCII.rparen else {
                append = nil
                return .error(IMAPParseError(.syntax("expected ')' after UTF8 literal"), tag: context.tag))
            }
            line = line.dropFirst()
        }
        if line.isEmpty {
            append = nil
            return .appendEnd(tag: context.tag)
        }
        guard let marker = LiteralMarker.find(in: line) else {
            append = nil
            return .error(IMAPParseError(.syntax("expected message literal or end of APPEND"), tag: context.tag))
        }
        var grammar = CommandGrammar(Array(line), utf8: utf8Enabled, limits: limits)
        do {
            let options = try grammar.appendOptions(markerStart: marker.start)
            return startAppendMessage(marker, tag: context.tag, mailbox: context.mailbox, options: options,
                                      index: context.messages)
        } catch {
            return refuseLiteral(marker, IMAPParseError(error.kind, tag: context.tag))
        }
    }

    private mutating func startAppendMessage(_ marker: LiteralMarker, tag: String, mailbox: MailboxName,
                                             options: AppendOptions, index: Int) -> IMAPCommandEvent? {
        guard let size = marker.size, size <= limits.maximumAppendSize else {
            return refuseLiteral(marker, IMAPParseError(.messageTooLarge(marker.size ?? UInt64.max), tag: tag))
        }
        append = AppendContext(tag: tag, mailbox: mailbox, messages: index + 1, closesUTF8: options.utf8Data)
        state = .appendLiteral(remaining: size, synchronizing: marker.synchronizing, accepted: false)
        return .appendMessage(AppendMessage(tag: tag, mailbox: mailbox, flags: options.flags, internalDate: options.date,
                                            size: size, isBinary: marker.binary, needsContinuation: marker.synchronizing,
                                            index: index, isUTF8Data: options.utf8Data))
    }

    /// Refuses a command at a literal announcement: a synchronising literal will not be sent; the payload of
    /// a non-synchronising one is skipped (or, if its size is unreadable, framing is lost: fatal).
    private mutating func refuseLiteral(_ marker: LiteralMarker, _ error: IMAPParseError) -> IMAPCommandEvent {
        failCommand()
        var error = error
        if marker.synchronizing {
            state = .line(.command)
        } else if let size = marker.size {
            state = .discardLiteral(remaining: size)
        } else {
            error.isFatal = true
            state = .line(.command)
        }
        return .error(error)
    }
}
