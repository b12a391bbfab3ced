import Testing
@testable import IMAPProtocol

@Suite("Commands parsed from wire text")
struct CommandParserTests {
    @Test("commands without arguments", arguments: [
        ("a CAPABILITY", Command.capability), ("a noop", .noop), ("a LOGOUT", .logout), ("a STARTTLS", .startTLS),
        ("a CHECK", .check), ("a CLOSE", .close), ("a UNSELECT", .unselect), ("a EXPUNGE", .expunge),
        ("a IDLE", .idle), ("a NAMESPACE", .namespace),
    ])
    func simple(line: String, expected: Command) {
        #expect(parseCommand(line) == expected)
    }

    @Test("tags keep their spelling; the command keyword is case-insensitive")
    func tags() {
        #expect(events("A001.x-9 Noop\r\n") == [.command(TaggedCommand(tag: "A001.x-9", command: .noop))])
        #expect(parseError("+a NOOP")?.tag == nil)
        #expect(parseError("a+ NOOP") == nil || parseError("a+ NOOP")?.tag == nil)
    }

    @Test("LOGIN with atoms, quoted strings and a literal (RFC 9051 §6.2.3)")
    func login() {
        #expect(parseCommand("a001 LOGIN SMITH SESAME") == .login(username: "SMITH", password: "SESAME"))
        #expect(parseCommand(#"a LOGIN "fred foobar" "pa\"ss\\word""#) == .login(username: "fred foobar", password: #"pa"ss\word"#))
        let list = events("a LOGIN {4}\r\nfred {6+}\r\nsecret\r\n")
        #expect(list == [.continuationRequired, .command(TaggedCommand(tag: "a", command: .login(username: "fred", password: "secret")))])
    }

    @Test("AUTHENTICATE with and without SASL-IR (RFC 4959)")
    func authenticate() {
        #expect(parseCommand("a AUTHENTICATE PLAIN") == .authenticate(mechanism: "PLAIN", initialResponse: nil))
        #expect(parseCommand("a AUTHENTICATE plain =") == .authenticate(mechanism: "PLAIN", initialResponse: .empty))
        #expect(parseCommand("a AUTHENTICATE PLAIN AHRlc3QAcGFzcw==")
            == .authenticate(mechanism: "PLAIN", initialResponse: .data(Array("\0test\0pass".utf8))))
        #expect(parseError("a AUTHENTICATE PLAIN AHRlc3QAcGFzcw=")?.tag == "a")
    }

    @Test("ENABLE, ID, COMPRESS")
    func misc() {
        #expect(parseCommand("a ENABLE CONDSTORE utf8=accept QRESYNC") == .enable(["CONDSTORE", "UTF8=ACCEPT", "QRESYNC"]))
        #expect(parseCommand("a ID NIL") == .id(nil))
        #expect(parseCommand(#"a ID ("name" "Thunderbird" "version" NIL)"#)
            == .id([IDField("name", "Thunderbird"), IDField("version", nil)]))
        #expect(parseCommand("a ID ()") == .id([]))
        #expect(parseCommand("a COMPRESS deflate") == .compress(algorithm: "DEFLATE"))
        #expect(parseError("a ENABLE") != nil)
    }

    @Test("SELECT / EXAMINE with CONDSTORE and QRESYNC (RFC 7162 §3.2.5 examples)")
    func select() {
        #expect(parseCommand("A142 SELECT INBOX") == .select(.inbox, SelectParameters()))
        #expect(parseCommand("a select inbox (CONDSTORE)") == .select(.inbox, SelectParameters(condStore: true)))
        #expect(parseCommand("A02 SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))")
            == .select(.inbox, SelectParameters(qresync: QResyncParameters(
                uidValidity: 67_890_007, modSeq: 20_050_715_194_045_000,
                knownUIDs: .ranges([SequenceRange(.number(41)), SequenceRange(.number(43), .number(211)),
                                    SequenceRange(.number(214), .number(541))])))))
        #expect(parseCommand("B04 SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))") != nil)
        #expect(parseCommand("a EXAMINE \"Sent Items\" (QRESYNC (1 2 (1:2 3:4)))")
            == .examine(MailboxName("Sent Items"), SelectParameters(qresync: QResyncParameters(
                uidValidity: 1, modSeq: 2,
                knownSequenceNumbers: .ranges([SequenceRange(.number(1), .number(2))]),
                knownSequenceUIDs: .ranges([SequenceRange(.number(3), .number(4))])))))
        #expect(parseError("a SELECT INBOX (BOGUS)")?.tag == "a")
        #expect(parseError("a SELECT INBOX (QRESYNC (0 1))") != nil)
    }

    @Test("mailbox management commands")
    func mailboxes() {
        #expect(parseCommand("a CREATE owatagusiam/") == .create(MailboxName("owatagusiam/"), specialUse: []))
        #expect(parseCommand(#"a CREATE MySpecialArchive (USE (\Archive \drafts))"#)
            == .create(MailboxName("MySpecialArchive"), specialUse: [.archive, .drafts]))
        #expect(parseCommand("a DELETE blurdybloop") == .delete(MailboxName("blurdybloop")))
        #expect(parseCommand("a RENAME \"Old Name\" New/Name") == .rename(from: MailboxName("Old Name"), to: MailboxName("New/Name")))
        #expect(parseCommand("a SUBSCRIBE #news.comp.mail.mime") == .subscribe(MailboxName("#news.comp.mail.mime")))
        #expect(parseCommand("a UNSUBSCRIBE inBox") == .unsubscribe(.inbox))
        #expect(parseCommand("a STATUS blurdybloop (UIDNEXT MESSAGES)") == .status(MailboxName("blurdybloop"), [.uidNext, .messages]))
        #expect(parseCommand("a STATUS INBOX (MESSAGES UIDNEXT UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT)")
            == .status(.inbox, StatusAttribute.allCases))
        #expect(parseError("a STATUS INBOX ()") != nil)
        #expect(parseError("a STATUS INBOX (FOO)") != nil)
    }

    @Test("LIST basic and extended (RFC 5258, RFC 5819, RFC 6154)")
    func list() {
        #expect(parseCommand(#"A101 LIST "" """#) == .list(ListCommand(reference: "", patterns: [""])))
        #expect(parseCommand("A102 LIST #news.comp.mail.misc %")
            == .list(ListCommand(reference: "#news.comp.mail.misc", patterns: ["%"])))
        #expect(parseCommand(#"A103 LIST /usr/staff/jones """#) == .list(ListCommand(reference: "/usr/staff/jones", patterns: [""])))
        #expect(parseCommand(#"A202 LIST ~/Mail/ foo*bar]"#) == .list(ListCommand(reference: "~/Mail/", patterns: ["foo*bar]"])))
        #expect(parseCommand(#"A04 LIST (SUBSCRIBED RECURSIVEMATCH) "" "%" RETURN (CHILDREN)"#)
            == .list(ListCommand(selectionOptions: [.subscribed, .recursiveMatch], reference: "", patterns: ["%"],
                                 returnOptions: [.children], isExtended: true)))
        #expect(parseCommand(#"A01 LIST "" ("INBOX" "Drafts" Sent/%)"#)
            == .list(ListCommand(reference: "", patterns: ["INBOX", "Drafts", "Sent/%"], isExtended: true)))
        #expect(parseCommand(#"t1 LIST (SPECIAL-USE) "" "*" RETURN (SPECIAL-USE STATUS (MESSAGES UNSEEN SIZE))"#)
            == .list(ListCommand(selectionOptions: [.specialUse], reference: "", patterns: ["*"],
                                 returnOptions: [.specialUse, .status([.messages, .unseen, .size])], isExtended: true)))
        #expect(parseCommand(#"a LIST "" "*" RETURN ()"#)
            == .list(ListCommand(reference: "", patterns: ["*"], isExtended: true)))
        #expect(parseError(#"a LIST (RECURSIVEMATCH) "" "*""#)?.tag == "a")
        #expect(parseCommand(##"a LSUB "#news." "comp.mail.*""##) == .lsub(reference: "#news.", pattern: "comp.mail.*"))
    }

    @Test("QUOTA commands (RFC 9208)")
    func quota() {
        #expect(parseCommand(#"G0001 GETQUOTA "!partition/sda4""#) == .getQuota(root: "!partition/sda4"))
        #expect(parseCommand("A003 GETQUOTAROOT INBOX") == .getQuotaRoot(.inbox))
        #expect(parseCommand(##"S0000 SETQUOTA "#user/alice" (STORAGE 510)"##)
            == .setQuota(root: "#user/alice", limits: [QuotaLimit(resource: "STORAGE", limit: 510)]))
        #expect(parseCommand(#"a SETQUOTA "" ()"#) == .setQuota(root: "", limits: []))
    }

    @Test("FETCH attributes, macros and sections (RFC 9051 §6.4.5)")
    func fetch() {
        #expect(parseCommand("A654 FETCH 2:4 (FLAGS BODY[HEADER.FIELDS (DATE FROM)])")
            == .fetch(.ranges([SequenceRange(.number(2), .number(4))]),
                      [.flags, .bodySection(SectionSpec(text: .headerFields(["DATE", "FROM"])), partial: nil, peek: false)],
                      FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH 1 ALL") == .fetch(.single(1), FetchAttribute.all, FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH 1 fast") == .fetch(.single(1), FetchAttribute.fast, FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH 1 FULL") == .fetch(.single(1), FetchAttribute.full, FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH * BODY") == .fetch(.ranges([SequenceRange(.last)]), [.bodyStructure(extensible: false)], FetchModifiers(), uid: false))
        #expect(parseCommand("a UID FETCH 1:* (UID FLAGS ENVELOPE BODYSTRUCTURE INTERNALDATE RFC822.SIZE MODSEQ)")
            == .fetch(.all, [.uid, .flags, .envelope, .bodyStructure(extensible: true), .internalDate, .rfc822Size, .modSeq],
                      FetchModifiers(), uid: true))
        let body = parseCommand("a FETCH 1 BODY.PEEK[1.2.HEADER.FIELDS.NOT (X-A x-b)]<0.100>")
        #expect(body == .fetch(.single(1), [.bodySection(SectionSpec(part: [1, 2], text: .headerFieldsNot(["X-A", "X-B"])),
                                                         partial: Partial(offset: 0, length: 100), peek: true)],
                               FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH 1 (BODY[] BODY[1] BODY[1.MIME] BODY[2.TEXT] BODY[HEADER] BODY[TEXT]<10.20>)")
            == .fetch(.single(1), [
                .bodySection(.whole, partial: nil, peek: false),
                .bodySection(SectionSpec(part: [1]), partial: nil, peek: false),
                .bodySection(SectionSpec(part: [1], text: .mime), partial: nil, peek: false),
                .bodySection(SectionSpec(part: [2], text: .text), partial: nil, peek: false),
                .bodySection(SectionSpec(text: .header), partial: nil, peek: false),
                .bodySection(SectionSpec(text: .text), partial: Partial(offset: 10, length: 20), peek: false),
            ], FetchModifiers(), uid: false))
        #expect(parseCommand("a FETCH 1 (BINARY[1.2] BINARY.PEEK[]<0.1024> BINARY.SIZE[3] RFC822 RFC822.HEADER RFC822.TEXT)")
            == .fetch(.single(1), [
                .binary(part: [1, 2], partial: nil, peek: false),
                .binary(part: [], partial: Partial(offset: 0, length: 1024), peek: true),
                .binarySize(part: [3]), .rfc822, .rfc822Header, .rfc822Text,
            ], FetchModifiers(), uid: false))
        #expect(parseError("a FETCH 1 BODY[MIME]") != nil)
        #expect(parseError("a FETCH 1 BODY[0]") != nil)
        #expect(parseError("a FETCH 1 BODY[]<0.0>") != nil)
        #expect(parseError("a FETCH 1 (FLAGS") != nil)
        #expect(parseError("a FETCH 0 FLAGS") != nil)
    }

    @Test("CONDSTORE / QRESYNC fetch modifiers (RFC 7162 §3.1.4.1, §3.2.6)")
    func fetchModifiers() {
        #expect(parseCommand("s100 UID FETCH 1:* (FLAGS) (CHANGEDSINCE 12345)")
            == .fetch(.all, [.flags, .modSeq], FetchModifiers(changedSince: 12345), uid: true))
        #expect(parseCommand("s100 UID FETCH 300:500 (FLAGS) (CHANGEDSINCE 12345 VANISHED)")
            == .fetch(.ranges([SequenceRange(.number(300), .number(500))]), [.flags, .modSeq],
                      FetchModifiers(changedSince: 12345, vanished: true), uid: true))
        #expect(parseError("s100 FETCH 1:* (FLAGS) (CHANGEDSINCE 12345 VANISHED)")?.tag == "s100")
        #expect(parseError("s100 UID FETCH 1:* (FLAGS) (VANISHED)")?.tag == "s100")
    }

    @Test("STORE with .SILENT and UNCHANGEDSINCE")
    func store() {
        #expect(parseCommand(#"A003 STORE 2:4 +FLAGS (\Deleted)"#)
            == .store(.ranges([SequenceRange(.number(2), .number(4))]), StoreCommand(operation: .add, flags: [.deleted]), uid: false))
        #expect(parseCommand(#"a UID STORE 5 -flags.silent \seen $Junk"#)
            == .store(.single(5), StoreCommand(operation: .remove, silent: true, flags: [.seen, Flag("$Junk")!]), uid: true))
        #expect(parseCommand(#"d105 STORE 7,5,9 (UNCHANGEDSINCE 320162338) +FLAGS.SILENT (\Deleted)"#)
            == .store(.ranges([SequenceRange(.number(7)), SequenceRange(.number(5)), SequenceRange(.number(9))]),
                      StoreCommand(operation: .add, silent: true, flags: [.deleted], unchangedSince: 320_162_338), uid: false))
        #expect(parseCommand("a STORE 1 FLAGS ()") == .store(.single(1), StoreCommand(operation: .replace, flags: []), uid: false))
        #expect(parseError("a STORE 1 +FLAGX (\\Seen)") != nil)
    }

    @Test("COPY, MOVE, UID EXPUNGE, $")
    func copyMove() {
        #expect(parseCommand("A003 COPY 2:4 MEETING") == .copy(.ranges([SequenceRange(.number(2), .number(4))]), MailboxName("MEETING"), uid: false))
        #expect(parseCommand("a UID MOVE 42:69 foo") == .move(.ranges([SequenceRange(.number(42), .number(69))]), MailboxName("foo"), uid: true))
        #expect(parseCommand("a MOVE $ Trash") == .move(.lastSearchResult, MailboxName("Trash"), uid: false))
        #expect(parseCommand("A003 UID EXPUNGE 3000:3002") == .uidExpunge(.ranges([SequenceRange(.number(3000), .number(3002))])))
        #expect(parseError("a UID NOOP") != nil)
        #expect(parseError("a COPY 1,,2 x") != nil)
        #expect(parseError("a COPY $,1 x") != nil)
    }

    @Test("SEARCH programs (RFC 9051 §6.4.4, RFC 4731, RFC 5182)")
    func search() throws {
        #expect(parseCommand(#"A282 SEARCH FLAGGED SINCE 1-Feb-1994 NOT FROM "Smith""#)
            == .search(SearchCommand(key: .and([.flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)!), .not(.from("Smith"))])), uid: false))
        #expect(parseCommand(#"A284 SEARCH TEXT "string not in mailbox""#)
            == .search(SearchCommand(key: .text("string not in mailbox")), uid: false))
        #expect(parseCommand("A285 SEARCH CHARSET UTF-8 TEXT {12+}\r\nXXXXXXXXXXXX")
            == .search(SearchCommand(charset: "UTF-8", key: .text("XXXXXXXXXXXX")), uid: false))
        #expect(parseCommand("A282 SEARCH RETURN (MIN COUNT) FLAGGED SINCE \"1-Feb-1994\"")
            == .search(SearchCommand(returnOptions: [.min, .count], key: .and([.flagged, .since(IMAPDate(year: 1994, month: 2, day: 1)!)])), uid: false))
        #expect(parseCommand("a UID SEARCH RETURN () ALL") == .search(SearchCommand(returnOptions: [], key: .all), uid: true))
        #expect(parseCommand("a SEARCH RETURN (SAVE) UID 1:100 $") == .search(SearchCommand(returnOptions: [.save], key: .and([.uid(.ranges([SequenceRange(.number(1), .number(100))])), .sequenceNumbers(.lastSearchResult)])), uid: false))
        #expect(parseCommand("a SEARCH OR (SEEN DRAFT) (LARGER 1024 SMALLER 4096) HEADER Message-ID <a@b> KEYWORD $Junk UNKEYWORD x")
            == .search(SearchCommand(key: .and([.or(.and([.seen, .draft]), .and([.larger(1024), .smaller(4096)])),
                                                .header(field: "Message-ID", value: "<a@b>"),
                                                .keyword(Flag("$Junk")!), .unkeyword(Flag("x")!)])), uid: false))
        #expect(parseCommand(#"a SEARCH MODSEQ "/flags/\\draft" all 620162338"#)
            == .search(SearchCommand(key: .modSeq(620_162_338, entry: ModSeqEntry(flag: .draft, type: "all"))), uid: false))
        #expect(parseCommand("a SEARCH MODSEQ 5 YOUNGER 3600 OLDER 60 NEW OLD RECENT")
            == .search(SearchCommand(key: .and([.modSeq(5, entry: nil), .younger(3600), .older(60), .new, .old, .recent])), uid: false))
        #expect(parseCommand("a SEARCH SENTBEFORE 29-Feb-2024 SENTON 31-Dec-1999 SENTSINCE 01-Jan-2000 BEFORE 2-Mar-2023 ON 3-Apr-2022")
            != nil)
        #expect(parseCommand("a SEARCH 1:5,7 ANSWERED DELETED UNANSWERED UNDELETED UNDRAFT UNFLAGGED UNSEEN BCC x CC y TO z BODY w SUBJECT v") != nil)
        #expect(parseError("a SEARCH SINCE 30-Feb-2024")?.tag == "a")
        #expect(parseError("a SEARCH SINCE 1-Foo-2024") != nil)
        #expect(parseError("a SEARCH BOGUS") != nil)
        #expect(parseError("a SEARCH RETURN (PARTIAL 1:10) ALL") != nil)
        #expect(parseError("a SEARCH CHARSET KOI8-R ALL") == IMAPParseError(.unsupportedCharset("KOI8-R"), tag: "a"))
    }

    @Test("SORT and THREAD (RFC 5256)")
    func sortThread() {
        #expect(parseCommand("A282 SORT (SUBJECT) UTF-8 SINCE 1-Feb-1994")
            == .sort(SortCommand(criteria: [SortCriterion(.subject)], charset: "UTF-8", key: .since(IMAPDate(year: 1994, month: 2, day: 1)!)), uid: false))
        #expect(parseCommand("A283 UID SORT (REVERSE DATE size) us-ascii ALL UNSEEN")
            == .sort(SortCommand(criteria: [SortCriterion(.date, reverse: true), SortCriterion(.size)], charset: "US-ASCII", key: .and([.all, .unseen])), uid: true))
        #expect(parseCommand("a SORT RETURN (COUNT) (ARRIVAL) UTF-8 ALL")
            == .sort(SortCommand(criteria: [SortCriterion(.arrival)], charset: "UTF-8", key: .all, returnOptions: [.count]), uid: false))
        #expect(parseCommand("A283 THREAD ORDEREDSUBJECT UTF-8 SINCE 5-MAR-2000")
            == .thread(ThreadCommand(algorithm: .orderedSubject, charset: "UTF-8", key: .since(IMAPDate(year: 2000, month: 3, day: 5)!)), uid: false))
        #expect(parseCommand("A284 UID THREAD REFERENCES US-ASCII TEXT \"gewp\"")
            == .thread(ThreadCommand(algorithm: .references, charset: "US-ASCII", key: .text("gewp")), uid: true))
        #expect(parseError("a SORT (SUBJECT) ALL") != nil)
        #expect(parseError("a SORT () UTF-8 ALL") != nil)
    }

    @Test("command-level errors carry the tag")
    func errors() {
        #expect(parseError("a1 FOOBAR") == IMAPParseError(.syntax("unknown command FOOBAR"), tag: "a1"))
        #expect(parseError("a1 NOOP extra")?.tag == "a1")
        #expect(parseError("a1 LOGIN onlyone")?.tag == "a1")
        #expect(parseError("a1 APPEND INBOX (\\Seen)")?.tag == "a1")
        #expect(parseError("a1")?.tag == "a1")
        #expect(parseError("") == IMAPParseError(.syntax("empty command line"), tag: nil))
        #expect(parseError("a1  NOOP")?.tag == "a1")
    }
}
