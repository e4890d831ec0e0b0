import KeygateCore
import Logging
import ServiceLifecycle
import Synchronization

/// Tells in-process caches what changed in the database.
///
/// Two sources publish to it: the database handle, right after it commits an announcing transaction of this
/// process, and the ``ChangeWatcher``, when another process announces one (PostgreSQL `LISTEN`/`NOTIFY` with the
/// scope as payload, or the SQLite change log). Observers run synchronously on the publisher's task, so a local
/// change has invalidated the caches before its transaction returns.
public final class ChangeFeed: Sendable {
    /// What happened.
    public enum Event: Sendable, Equatable {
        /// The database changed (here or elsewhere), within this scope (never ``ChangeScope/nothing``).
        case changed(ChangeScope)
        /// Announcements from other processes are being received, from now on.
        case listening
        /// Announcements may be missed until the next ``listening``.
        case lost
    }

    private let observers = Mutex<[@Sendable (Event) -> Void]>([])

    /// Creates a feed with no observers.
    public init() {}

    /// Calls `observer` for every event from now on.
    public func subscribe(_ observer: @escaping @Sendable (Event) -> Void) {
        observers.withLock { $0.append(observer) }
    }

    /// Wires a session cache: invalidated where a change happened, suspended while announcements may be missed.
    public func drive(_ cache: SessionCache) {
        subscribe { event in
            switch event {
            case .changed(let scope): cache.invalidate(scope)
            case .listening: cache.resume()
            case .lost: cache.suspend()
            }
        }
    }

    func publish(_ event: Event) {
        for observer in observers.withLock({ $0 }) { observer(event) }
    }
}

/// Receives other processes' change announcements for as long as the server runs, and keeps the ``ChangeFeed``
/// honest about it: ``ChangeFeed/Event/lost`` the moment the channel fails, ``ChangeFeed/Event/listening`` once it
/// is back (retrying every `retryInterval`).
public struct ChangeWatcher: Service, CustomStringConvertible {
    let db: any DatabaseHandle
    let retryInterval: Duration
    let logger: Logger

    /// Creates the watcher for `db`'s feed.
    public init(db: any DatabaseHandle, retryInterval: Duration = .seconds(1), logger: Logger) {
        self.db = db
        self.retryInterval = retryInterval
        self.logger = logger
    }

    public var description: String { "ChangeWatcher" }

    public func run() async throws {
        guard db.announcesChanges else {
            logger.notice("change announcements are off for this database: the session cache stays off")
            return
        }
        do {
            try await cancelWhenGracefulShutdown {
                while true {
                    do {
                        try await db.watchChanges()
                    } catch is CancellationError {
                        throw CancellationError()
                    } catch {
                        db.changes.publish(.lost)
                        logger.warning(
                            "lost the database change channel; the session cache is off until it is back",
                            metadata: ["error": "\(String(reflecting: error))"])
                    }
                    db.changes.publish(.lost)
                    try await Task.sleep(for: retryInterval)
                }
            }
        } catch is CancellationError {
            db.changes.publish(.lost)
        }
    }
}

/// The database's place in the server's ServiceGroup: it ends the database's background work
/// (``DatabaseHandle/stopBackground()``: the PostgreSQL pool closes its connections) when the group stops. List it
/// first: services shut down in reverse order, so that happens only after the HTTP server has drained and every other
/// service has stopped, or at once when the group's graceful period is over and it cancels: a request still waiting on
/// a database that does not answer then fails, and the process ends within its bound. The database itself is opened
/// and closed around the group (``Storage/withDatabase(url:logger:migrate:metrics:_:)``): start-up migrates and checks
/// the master key before any service runs.
public struct DatabaseService: Service, CustomStringConvertible {
    let db: any DatabaseHandle

    /// Creates the service for an opened handle.
    public init(db: any DatabaseHandle) { self.db = db }

    public var description: String { "DatabaseService" }

    public func run() async throws {
        // Returns on graceful shutdown, throws on cancellation: either way, stop.
        try? await gracefulShutdown()
        db.stopBackground()
    }
}
