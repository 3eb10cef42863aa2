import CLibedit
import Dispatch
import NIOConcurrencyHelpers

#if canImport(Glibc)
    import Glibc
#endif

/// What TAB does with the text before the cursor.
package struct Completion: Sendable, Equatable {
    /// How many characters before the cursor the completion replaces.
    package var replacing: Int
    /// Candidates; one is inserted, several are listed (after inserting their common prefix).
    package var candidates: [String]
    /// Key names are; command names are not.
    package var caseSensitive = false

    package init(replacing: Int, candidates: [String], caseSensitive: Bool = false) {
        self.replacing = replacing
        self.candidates = candidates
        self.caseSensitive = caseSensitive
    }
}
