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

    package init(replacing: Int, candidates: [String]) {
        self.replacing = replacing
        self.candidates = candidates
    }
}
