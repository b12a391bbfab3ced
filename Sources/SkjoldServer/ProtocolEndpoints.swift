import Foundation
import Logging
import MailServerCore
import MailStore
import MailStoreSQLite
import SkjoldConfig

/// Which listeners exist in this build and what each one serves. Each protocol issue adds its own here.
struct ProtocolEndpoints {
    let config: SkjoldConfig
    let store: SQLiteMailStore
    let tls: ServerTLS
    let logger: Logger

    /// The listeners to start, with a one-line description for the start-up banner.
    func listeners() -> [(MailListener, String)] {
        []
    }

    /// How to point a mail client at this server, given the listeners that are on.
    func clientHint() -> String? {
        nil
    }
}
