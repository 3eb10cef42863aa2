import NIOCore

/// A Sentinel pub/sub message, read as what it means for the client of one master.
enum SentinelMessage: Sendable, Hashable {
    /// `+switch-master` for our master: it moved.
    case masterSwitched
    /// `+try-failover` or `+odown` on our master: a failover is starting.
    case failoverStarted(master: ServerAddress)
    /// `+sdown`, `-sdown`, `-odown` or `+failover-end` on our master: look again.
    case masterStateChanged(channel: String)
    /// `+sdown` / `-sdown` of a sentinel.
    case sentinelDown(ServerAddress)
    case sentinelUp(ServerAddress)
    /// `+sentinel`: a sentinel joined.
    case sentinelAdded(ServerAddress)
    /// `+selected-slave`, `+failover-state-send-slaveof-noone` or `+promoted-slave`: the
    /// leader chose `candidate` to replace our master at `master`.
    case replicaSelected(candidate: ServerAddress, master: ServerAddress)
    /// `-failover-abort-*` for our master: no promotion follows.
    case failoverAborted

    /// The channels the client subscribes to: those it acts on, and those it shows.
    static let channels = [
        "+switch-master", "+odown", "-odown", "+sdown", "-sdown", "+try-failover", "+failover-end", "+sentinel",
        "+elected-leader", "+selected-slave", "+failover-state-send-slaveof-noone", "+promoted-slave",
        "+failover-end-for-timeout", "+slave", "+convert-to-slave", "-role-change", "+role-change",
        "-failover-abort-not-elected", "-failover-abort-no-good-slave", "-failover-abort-slave-timeout",
    ]

    /// The leader's steps that name the replica it promotes.
    static let promotionChannels: Set<String> = [
        "+selected-slave", "+failover-state-send-slaveof-noone", "+promoted-slave",
    ]

    /// Whether a message is about `masterName`: its master itself (`master <name> ...`),
    /// one of its replicas or sentinels (`... @ <name> ...`), or its switch.
    static func isAbout(_ masterName: String, payload: String) -> Bool {
        let words = payload.split(separator: " ")
        if words.count >= 2, words[0] == "master", words[1] == masterName { return true }
        if let at = words.firstIndex(of: "@"), at + 1 < words.count, words[at + 1] == masterName { return true }
        return words.first.map { $0 == masterName } ?? false  // +switch-master <name> ...
    }

    /// Instance events read `<type> <name> <ip> <port> [@ <master> <ip> <port>]`;
    /// `+switch-master` reads `<name> <old-ip> <old-port> <new-ip> <new-port>`.
    /// Nil for messages about other masters or that do not parse.
    static func parse(channel: String, payload: String, masterName: String) -> SentinelMessage? {
        let words = payload.split(separator: " ").map(String.init)
        let instance: (type: String, name: String, address: ServerAddress)? =
            words.count >= 4 && Int(words[3]) != nil
            ? (words[0], words[1], ServerAddress(host: words[2], port: Int(words[3])!)) : nil
        let aboutOurMaster = instance.map { $0.type == "master" && $0.name == masterName } ?? false
        switch channel {
        case "+switch-master":
            return words.first == masterName ? .masterSwitched : nil
        case "+try-failover", "+odown":
            guard aboutOurMaster, let instance else { return nil }
            return .failoverStarted(master: instance.address)
        case "+sdown", "-sdown", "-odown", "+failover-end":
            if aboutOurMaster { return .masterStateChanged(channel: channel) }
            guard let instance, instance.type == "sentinel", channel == "+sdown" || channel == "-sdown" else {
                return nil
            }
            return channel == "+sdown" ? .sentinelDown(instance.address) : .sentinelUp(instance.address)
        case _ where promotionChannels.contains(channel):
            // `slave <ip:port> <ip> <port> @ <master> <master-ip> <master-port>`
            guard let instance, instance.type == "slave", words.count >= 8, words[4] == "@", words[5] == masterName,
                let port = Int(words[7])
            else { return nil }
            return .replicaSelected(candidate: instance.address, master: ServerAddress(host: words[6], port: port))
        case _ where channel.hasPrefix("-failover-abort-"):
            return aboutOurMaster ? .failoverAborted : nil
        case "+sentinel":
            // `sentinel <id> <ip> <port> @ <master> <ip> <port>`: only sentinels of our master.
            guard let instance, instance.type == "sentinel", words.count < 6 || words[5] == masterName else {
                return nil
            }
            return .sentinelAdded(instance.address)
        default:
            return nil
        }
    }
}
