//===----------------------------------------------------------------------===//
//
// This source file is part of the Verity open source project
//
// Licensed under Apache License v2.0
//
//===----------------------------------------------------------------------===//

import VerityCore
import VerityProtocol

/// `nextPageToken`: opaque to clients; here the time in milliseconds and the id of the last item
/// of the page (a change request's creation, a link request's request).
enum PageToken {
    static func string(for cursor: PageCursor) -> String {
        "\(Timestamp.milliseconds(of: cursor.time)).\(cursor.id)"
    }

    static func cursor(from token: String) throws -> PageCursor {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let milliseconds = Int64(parts[0]), milliseconds >= 0 else {
            throw RPCError.invalidArgument(field: "pageToken", reason: "INVALID_VALUE", "pageToken is a nextPageToken as a previous page gave it")
        }
        do {
            try WireMapping.checkID(String(parts[1]), field: "pageToken")
        } catch {
            throw RPCError.invalidArgument(field: "pageToken", reason: "INVALID_VALUE", "pageToken is a nextPageToken as a previous page gave it")
        }
        return PageCursor(time: Timestamp.date(milliseconds: milliseconds), id: String(parts[1]))
    }
}
