/// Sentinel's flags for a replica, as they bear on reading from it or promoting it.
enum ReplicaFlags {
    private static let unfit: Set<Substring> = ["s_down", "o_down", "disconnected"]

    /// None of `s_down`, `o_down` or `disconnected`.
    static func fit(_ flags: String) -> Bool {
        !flags.split(separator: ",").contains { unfit.contains($0) }
    }
}
